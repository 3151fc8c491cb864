package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/custos/custos"
)

// Machine is one flow kind: its states S, its typed data D and the
// transitions allowed between states. A state with no transitions out is
// final.
type Machine[S ~string, D any] struct {
	Kind    custos.FlowKind
	Initial S
	Edges   map[S][]S
}

// Flow is one stored flow of a Machine, decoded.
type Flow[S ~string, D any] struct {
	Row   custos.Flow // as stored; Row.Data is the JSON of Data at load time
	State S
	Data  D
}

// ID is the flow's id.
func (f Flow[S, D]) ID() string { return f.Row.ID }

// AccountID is the account the flow belongs to ("" when none yet).
func (f Flow[S, D]) AccountID() string { return f.Row.AccountID }

// Spec is what a new flow starts with.
type Spec[D any] struct {
	ID          string
	AccountID   string
	Data        D
	MaxAttempts int           // guesses the flow takes (0: none)
	TTL         time.Duration // how long it lives
}

// Can reports whether the machine allows moving from one state to another.
func (m Machine[S, D]) Can(from, to S) bool {
	return slices.Contains(m.Edges[from], to)
}

// Final reports whether no transition leaves st.
func (m Machine[S, D]) Final(st S) bool { return len(m.Edges[st]) == 0 }

// Begin stores a new flow in the machine's initial state.
func (m Machine[S, D]) Begin(ctx context.Context, store custos.FlowStore, now time.Time, spec Spec[D]) (Flow[S, D], error) {
	data, err := json.Marshal(spec.Data)
	if err != nil {
		return Flow[S, D]{}, fmt.Errorf("flow %s: %w", m.Kind, err)
	}
	row := custos.Flow{
		ID: spec.ID, Kind: m.Kind, AccountID: spec.AccountID, State: string(m.Initial), Data: data,
		MaxAttempts: spec.MaxAttempts, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(spec.TTL),
	}
	if err := store.CreateFlow(ctx, row); err != nil {
		return Flow[S, D]{}, err
	}
	return Flow[S, D]{Row: row, State: m.Initial, Data: spec.Data}, nil
}

// Load returns the unexpired flow with id, in whatever state; ENotFound
// when there is none of this kind.
func (m Machine[S, D]) Load(ctx context.Context, store custos.FlowStore, id string, now time.Time) (Flow[S, D], error) {
	row, err := store.FlowByID(ctx, id, m.Kind, now)
	if err != nil {
		return Flow[S, D]{}, err
	}
	f := Flow[S, D]{Row: row, State: S(row.State)}
	if err := json.Unmarshal(row.Data, &f.Data); err != nil {
		return Flow[S, D]{}, fmt.Errorf("flow %s %s: %w", m.Kind, row.ID, err)
	}
	return f, nil
}

// LoadIn is Load, refusing with notLive unless the flow is in one of the
// states given.
func (m Machine[S, D]) LoadIn(ctx context.Context, store custos.FlowStore, id string, now time.Time, notLive error, states ...S) (Flow[S, D], error) {
	f, err := m.Load(ctx, store, id, now)
	if custos.IsCode(err, custos.ENotFound) {
		return Flow[S, D]{}, notLive
	}
	if err != nil {
		return Flow[S, D]{}, err
	}
	if !slices.Contains(states, f.State) {
		return Flow[S, D]{}, notLive
	}
	return f, nil
}

// Advance moves f to state `to` with f.Data as its new data. The move must
// be one of the machine's transitions (anything else is a programming
// error); the store makes it only if the flow is still in f.State, and
// answers EExpired when another request moved it first or it expired.
// On success f reflects the new state.
func (m Machine[S, D]) Advance(ctx context.Context, store custos.FlowStore, f *Flow[S, D], to S, now time.Time) error {
	if !m.Can(f.State, to) {
		return fmt.Errorf("flow %s: no transition %s → %s", m.Kind, f.State, to)
	}
	data, err := json.Marshal(f.Data)
	if err != nil {
		return fmt.Errorf("flow %s: %w", m.Kind, err)
	}
	if err := store.AdvanceFlow(ctx, f.Row.ID, m.Kind, string(f.State), string(to), data, now); err != nil {
		return err
	}
	f.State, f.Row.State, f.Row.Data, f.Row.UpdatedAt = to, string(to), data, now
	return nil
}

// Guess counts one guess on f before it is checked, and returns how many
// are left after it; exhausted (EExpired or ENotFound from the store)
// answers dead instead.
func (m Machine[S, D]) Guess(ctx context.Context, store custos.FlowStore, f Flow[S, D], now time.Time, dead error) (int, error) {
	left, err := store.CountFlowAttempt(ctx, f.Row.ID, m.Kind, now)
	if custos.IsCode(err, custos.EExpired) || custos.IsCode(err, custos.ENotFound) {
		return 0, dead
	}
	return left, err
}
