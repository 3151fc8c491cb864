package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/custos/custos"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// The dialects Config.Dialect names (sqlstore's).
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// Defaults of Config.
const (
	// DefaultWorkers is how many deliveries one process runs at once.
	DefaultWorkers = 10
	// DefaultPollInterval is how often a process looks for due jobs. The
	// database/sql drivers have no LISTEN, so this is also the longest a
	// new message waits before a worker takes it.
	DefaultPollInterval = 200 * time.Millisecond
	// DefaultMaxAttempts is how many times a message is tried before it is
	// given up: with Backoff, about a day.
	DefaultMaxAttempts = 1440
)

// kindDeliver is the one job kind of this package.
const kindDeliver = "deliver"

// Config is what New needs.
type Config struct {
	// DB is the database the store writes to, and Dialect its dialect: the
	// jobs of a change are written in the change's own transaction. On
	// SQLite it is the store's single write connection.
	DB      *sql.DB
	Dialect string
	// Exclusive runs fn while no other process migrates the same database
	// (sqlstore.DB.Exclusive: PostgreSQL's advisory lock); nil runs fn as
	// it is.
	Exclusive func(ctx context.Context, fn func(context.Context) error) error
	// Deliver renders and sends one message (notify.Notifier.Send). An
	// EInternal error (a message no template can render) is not retried;
	// any other error is.
	Deliver func(ctx context.Context, m custos.Message) error
	// Seal and Open keep a message (its address, data and code) sealed in
	// the job table; replicas must share the key. Required.
	Seal func(plaintext []byte) ([]byte, error)
	Open func(sealed []byte) ([]byte, error)
	// Clock tells when a code has stopped working (Message.Expires); nil
	// means custos.SystemClock.
	Clock custos.Clock
	// Logger gets a warn line per failed attempt; nil discards.
	Logger *slog.Logger
	// Metrics registers custos_deliveries_total and
	// custos_deliveries_waiting; nil registers nothing.
	Metrics prometheus.Registerer

	Workers      int           // deliveries at once in this process (DefaultWorkers)
	PollInterval time.Duration // how often to look for due jobs (DefaultPollInterval)
	MaxAttempts  int           // tries before a message is given up (DefaultMaxAttempts)
	// Backoff is the wait after the attempt-th failed attempt (Backoff).
	Backoff func(attempt int) time.Duration
	// Webhooks delivers security webhooks (webhooks.go); nil delivers
	// none.
	Webhooks *WebhookConfig
}

// Backoff is the default retry schedule: 2^attempt seconds, at most a
// minute (2 s, 4 s, … 32 s, then 60 s). Once a mail server is back, every
// waiting message is tried again within about a minute (River moves due
// retries every few seconds), however long the outage was.
func Backoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt >= 6 {
		return time.Minute
	}
	return time.Duration(1<<attempt) * time.Second
}

// Queue writes messages as jobs and runs the workers that deliver them. It
// implements custos.Notifier. It is safe for concurrent use.
type Queue struct {
	cfg     Config
	client  *river.Client[*sql.Tx]
	metrics *metrics
}

var _ custos.Notifier = (*Queue)(nil)

// New migrates River's tables (Migrate) and returns a Queue whose workers
// wait for Start. Jobs may be written before Start.
func New(ctx context.Context, cfg Config) (*Queue, error) {
	switch {
	case cfg.DB == nil:
		return nil, errors.New("queue: Config.DB is nil")
	case cfg.Deliver == nil:
		return nil, errors.New("queue: Config.Deliver is nil")
	case cfg.Seal == nil || cfg.Open == nil:
		return nil, errors.New("queue: Config.Seal and Config.Open are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = custos.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff == nil {
		cfg.Backoff = Backoff
	}
	if err := Migrate(ctx, cfg); err != nil {
		return nil, err
	}
	driver, err := newDriver(cfg)
	if err != nil {
		return nil, err
	}
	q := &Queue{cfg: cfg, metrics: newMetrics()}
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{q: q}); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	if err := q.addWebhookWorker(workers); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	q.client, err = river.NewClient(driver, &river.Config{
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		PollOnly:          true, // neither database/sql driver can LISTEN
		FetchPollInterval: cfg.PollInterval,
		FetchCooldown:     min(cfg.PollInterval, 100*time.Millisecond),
		MaxAttempts:       cfg.MaxAttempts,
		RetryPolicy:       retryPolicy{backoff: cfg.Backoff, clock: custos.SystemClock{}},
		// A delivery that takes a minute has failed; a job left running by
		// a process that died is tried again (and so may be sent twice)
		// after RescueStuckJobsAfter.
		JobTimeout:           time.Minute,
		RescueStuckJobsAfter: 5 * time.Minute,
		// A finished job holds nothing anyone needs; sealed all the same.
		CompletedJobRetentionPeriod: time.Hour,
		Logger:                      quiet(cfg.Logger),
	})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	if cfg.Metrics != nil {
		if err := q.metrics.register(cfg.Metrics, q); err != nil {
			return nil, fmt.Errorf("queue: metrics: %w", err)
		}
	}
	return q, nil
}

// newDriver is River's driver for the dialect.
func newDriver(cfg Config) (riverdriver.Driver[*sql.Tx], error) {
	switch cfg.Dialect {
	case DialectSQLite:
		return riversqlite.New(cfg.DB), nil
	case DialectPostgres:
		return riverdatabasesql.New(cfg.DB), nil
	}
	return nil, fmt.Errorf("queue: unknown dialect %q", cfg.Dialect)
}

// quiet is l for River's own lines at warn and above: it logs every failed
// attempt at info, which the worker already says at warn.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{l.Handler(), slog.LevelWarn})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

func (f levelFilter) WithAttrs(a []slog.Attr) slog.Handler {
	return levelFilter{f.Handler.WithAttrs(a), f.min}
}

func (f levelFilter) WithGroup(name string) slog.Handler {
	return levelFilter{f.Handler.WithGroup(name), f.min}
}

// Migrate brings River's tables up to date on cfg.DB (cfg.DB, Dialect,
// Exclusive and Logger are used). It is safe to run from several processes
// at once: on PostgreSQL they take turns under cfg.Exclusive; on SQLite,
// whose migrations are each one IMMEDIATE transaction, a process that
// loses a race to another tries again and finds the work done.
func Migrate(ctx context.Context, cfg Config) error {
	driver, err := newDriver(cfg)
	if err != nil {
		return err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := rivermigrate.New(driver, &rivermigrate.Config{Logger: quiet(logger)})
	if err != nil {
		return fmt.Errorf("queue: migrate: %w", err)
	}
	run := func(ctx context.Context) error {
		_, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		return err
	}
	if cfg.Exclusive != nil {
		inner := run
		run = func(ctx context.Context) error { return cfg.Exclusive(ctx, inner) }
	}
	const tries = 10
	for i := 1; ; i++ {
		err := run(ctx)
		if err == nil {
			return nil
		}
		if i == tries || cfg.Dialect != DialectSQLite || ctx.Err() != nil {
			return fmt.Errorf("queue: migrate: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("queue: migrate: %w", errors.Join(err, ctx.Err()))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Start starts this process's workers. They run until Stop.
func (q *Queue) Start(ctx context.Context) error {
	// Stop, not the caller's context, ends the workers: a cancelled start
	// context would cut deliveries off mid-send.
	if err := q.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("queue: start: %w", err)
	}
	return nil
}

// Stop lets the deliveries in progress finish, until ctx is done, and then
// cancels them (a cancelled delivery is tried again later, by this or
// another process). It returns once the workers have stopped.
func (q *Queue) Stop(ctx context.Context) error {
	err := q.client.Stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	hard, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return q.client.StopAndCancel(hard)
}

// Send writes m as a job in a transaction of its own, so it is durable
// when Send returns; a worker delivers it later. It is for a message that
// rides on no store change; a change's messages go through InsertTx.
// EUnavailable when the job could not be written.
func (q *Queue) Send(ctx context.Context, m custos.Message) error {
	args, err := q.args(ctx, m)
	if err != nil {
		return err
	}
	if _, err := q.client.Insert(ctx, args, nil); err != nil {
		return custos.Errorf(custos.EUnavailable, "queue: writing a %s %s message: %v", m.Channel, m.Purpose, err)
	}
	return nil
}

// InsertTx writes msgs as jobs in tx: they exist if and only if tx
// commits. It is the outbox app hands to sqlstore (DB.SetOutbox).
func (q *Queue) InsertTx(ctx context.Context, tx *sql.Tx, msgs []custos.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	params := make([]river.InsertManyParams, len(msgs))
	for i, m := range msgs {
		args, err := q.args(ctx, m)
		if err != nil {
			return err
		}
		params[i] = river.InsertManyParams{Args: args}
	}
	if _, err := q.client.InsertManyTx(ctx, tx, params); err != nil {
		return fmt.Errorf("queue: writing %d message(s): %w", len(msgs), err)
	}
	return nil
}

// deliverArgs are a deliver job's arguments: the channel and purpose in
// the clear (for logs, metrics and an operator looking at the table), the
// message sealed.
type deliverArgs struct {
	Channel string `json:"channel"`
	Purpose string `json:"purpose"`
	Sealed  []byte `json:"sealed"`
}

// Kind is River's name for the job.
func (deliverArgs) Kind() string { return kindDeliver }

// sealedMessage is the JSON form of a custos.Message inside Sealed.
type sealedMessage struct {
	Channel string            `json:"channel"`
	To      string            `json:"to"`
	Purpose string            `json:"purpose"`
	Code    string            `json:"code,omitempty"`
	Data    map[string]string `json:"data,omitempty"`
	Expires time.Time         `json:"expires,omitzero"`
	Decoy   bool              `json:"decoy,omitempty"`
	Lang    string            `json:"lang,omitempty"`
}

// args seals m. A message with no language of its own (an account with
// no saved language, or none) is written in the language of the request
// that caused it (custos.LanguageOf).
func (q *Queue) args(ctx context.Context, m custos.Message) (deliverArgs, error) {
	if m.Lang == "" {
		m.Lang = custos.LanguageOf(ctx)
	}
	if m.Channel == "" || m.To == "" || m.Purpose == "" {
		return deliverArgs{}, custos.Errorf(custos.EInternal, "queue: a %q message to %q needs a channel, a recipient and a purpose", m.Purpose, custos.MaskEmail(m.To))
	}
	b, err := json.Marshal(sealedMessage{Channel: m.Channel, To: m.To, Purpose: m.Purpose, Code: m.Code, Data: m.Data, Expires: m.Expires, Decoy: m.Decoy, Lang: m.Lang})
	if err != nil {
		return deliverArgs{}, fmt.Errorf("queue: encoding a %s message: %w", m.Purpose, err)
	}
	sealed, err := q.cfg.Seal(b)
	if err != nil {
		return deliverArgs{}, fmt.Errorf("queue: sealing a %s message: %w", m.Purpose, err)
	}
	return deliverArgs{Channel: m.Channel, Purpose: m.Purpose, Sealed: sealed}, nil
}

func (q *Queue) open(a deliverArgs) (custos.Message, error) {
	b, err := q.cfg.Open(a.Sealed)
	if err != nil {
		return custos.Message{}, fmt.Errorf("opening the message: %w", err)
	}
	var s sealedMessage
	if err := json.Unmarshal(b, &s); err != nil {
		return custos.Message{}, fmt.Errorf("decoding the message: %w", err)
	}
	return custos.Message{Channel: s.Channel, To: s.To, Purpose: s.Purpose, Code: s.Code, Data: s.Data, Expires: s.Expires, Decoy: s.Decoy, Lang: s.Lang}, nil
}

// Job states, as River names them.
const (
	stateAvailable = "available"
	statePending   = "pending"
	stateRetryable = "retryable"
	stateRunning   = "running"
	stateScheduled = "scheduled"
)

// waitingStates are the states of a message not yet delivered nor given up.
var waitingStates = []string{stateAvailable, statePending, stateRetryable, stateRunning, stateScheduled}

// Waiting counts the messages not yet delivered nor given up, by River
// state: available (due now), running (being delivered), retryable
// (waiting for the next attempt after a failure), scheduled and pending.
// It counts every process's jobs.
func (q *Queue) Waiting(ctx context.Context) (map[string]int, error) {
	rows, err := q.cfg.DB.QueryContext(ctx,
		"SELECT state, COUNT(*) FROM river_job WHERE kind = '"+kindDeliver+"' AND state IN "+
			"('available', 'pending', 'retryable', 'running', 'scheduled') GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("queue: counting jobs: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int, len(waitingStates))
	for _, s := range waitingStates {
		out[s] = 0
	}
	for rows.Next() {
		var (
			state string
			n     int
		)
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("queue: counting jobs: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue: counting jobs: %w", err)
	}
	return out, nil
}

// Drain waits until no message is due or being delivered (by any process
// on the database): everything written before the call has been delivered,
// or has failed and waits for its retry, or was given up. Tests call it
// before they read what was sent.
func (q *Queue) Drain(ctx context.Context) error {
	for {
		w, err := q.Waiting(ctx)
		if err != nil {
			return err
		}
		if w[stateAvailable]+w[stateRunning]+w[statePending] == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("queue: drain: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
