package storetest

import (
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/custos/custos"
)

// stepRacers is how many goroutines race on one device's time steps.
const stepRacers = 100

// testUseDeviceStep steps through uses of one device in order: only a
// greater step is accepted, and a refusal changes nothing.
func testUseDeviceStep(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-step")
	d := mustConfirmDevice(t, s, newTOTPDevice("dev-step", a.ID), 100)
	pending := newTOTPDevice("dev-step-pending", a.ID)
	mustCreateDevice(t, s, pending)
	tests := []struct {
		name     string
		id       string
		step     int64
		drift    int
		at       time.Time
		wantCode string
	}{
		{"next step", d.ID, 101, 1, t0.Add(time.Minute), ""},
		{"the same step again (a replay)", d.ID, 101, 0, t0.Add(2 * time.Minute), custos.EInvalidCode},
		{"the step confirmed with", d.ID, 100, 0, t0.Add(3 * time.Minute), custos.EInvalidCode},
		{"an older step", d.ID, 50, -1, t0.Add(4 * time.Minute), custos.EInvalidCode},
		{"a step far ahead", d.ID, 1 << 40, -3, t0.Add(5*time.Minute + 7*time.Millisecond), ""},
		{"one below it", d.ID, 1<<40 - 1, 0, t0.Add(6 * time.Minute), custos.EInvalidCode},
		{"pending device", pending.ID, 1, 0, t0.Add(7 * time.Minute), custos.ENotFound},
		{"unknown device", "dev-absent", 1 << 41, 0, t0.Add(8 * time.Minute), custos.ENotFound},
	}
	want := d
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.UseDeviceStep(ctx, tc.id, tc.step, tc.drift, tc.at)
			if tc.wantCode != "" {
				wantCode(t, "UseDeviceStep", err, tc.wantCode)
			} else if err != nil {
				t.Fatalf("UseDeviceStep: %v", err)
			} else {
				want.LastStep, want.Drift, want.LastUsedAt = tc.step, tc.drift, tc.at
			}
			wantDevice(t, s, want)
		})
	}
	wantDevice(t, s, pending)
}

// testUseDeviceStepSameStep races stepRacers uses of one step, as a code
// replayed on every replica at once: exactly one is accepted. It runs a
// few rounds, each with the next step.
func testUseDeviceStepSameStep(t *testing.T, s custos.Store) {
	ctx := t.Context()
	a := mustCreateAccount(t, s, "acct-step-same")
	d := mustConfirmDevice(t, s, newTOTPDevice("dev-step-same", a.ID), 1000)
	for round := range 3 {
		step := int64(1001 + round)
		errs := make([]error, stepRacers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range stepRacers {
			wg.Go(func() {
				<-start
				errs[i] = s.UseDeviceStep(ctx, d.ID, step, i, t0.Add(time.Duration(i)*time.Millisecond))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Errorf("round %d: racers %d and %d both used step %d", round, winner, i, step)
			case err == nil:
				winner = i
			default:
				wantCode(t, "UseDeviceStep(loser)", err, custos.EInvalidCode)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no racer used step %d", round, step)
		}
		// The row holds the winner's drift and time, written with its step.
		d.LastStep, d.Drift, d.LastUsedAt = step, winner, t0.Add(time.Duration(winner)*time.Millisecond)
		wantDevice(t, s, d)
	}
}

// testUseDeviceStepDistinct races stepRacers uses of distinct steps, some
// below the stored one, while a reader watches LastStep: it never goes
// back, holds only accepted steps, and ends at the greatest step, written
// together with that call's drift and time. Every step at or below the
// starting LastStep is refused.
func testUseDeviceStepDistinct(t *testing.T, s custos.Store) {
	ctx := t.Context()
	const base, start0 = 5000, 5000 + stepRacers/2
	a := mustCreateAccount(t, s, "acct-step-distinct")
	d := mustConfirmDevice(t, s, newTOTPDevice("dev-step-distinct", a.ID), start0)
	steps := make([]int64, stepRacers)
	// A fixed shuffle, so a failure can be replayed.
	for i, p := range rand.New(rand.NewPCG(1, 2)).Perm(stepRacers) {
		steps[i] = int64(base + 1 + p)
	}
	drift := func(step int64) int { return int(step%7) - 3 }
	at := func(step int64) time.Time { return t0.Add(time.Duration(step) * time.Millisecond) }

	errs := make([]error, stepRacers)
	var (
		observed []int64
		readErr  error
		done     = make(chan struct{})
		watched  = make(chan struct{})
	)
	go func() {
		defer close(watched)
		for {
			got, err := s.DeviceByID(ctx, a.ID, d.ID)
			if err != nil {
				readErr = err
				return
			}
			observed = append(observed, got.LastStep)
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, step := range steps {
		wg.Go(func() {
			<-start
			errs[i] = s.UseDeviceStep(ctx, d.ID, step, drift(step), at(step))
		})
	}
	close(start)
	wg.Wait()
	close(done)
	<-watched
	if readErr != nil {
		t.Fatalf("DeviceByID while racing: %v", readErr)
	}

	accepted := map[int64]bool{start0: true}
	var greatest int64
	for i, err := range errs {
		step := steps[i]
		greatest = max(greatest, step)
		switch {
		case err == nil && step <= start0:
			t.Errorf("step %d accepted, but the device started at %d", step, start0)
		case err == nil:
			accepted[step] = true
		default:
			wantCode(t, "UseDeviceStep(refused)", err, custos.EInvalidCode)
		}
	}
	t.Logf("%d of %d steps accepted; the reader saw %d values", len(accepted)-1, stepRacers, len(observed))
	if !accepted[greatest] {
		t.Errorf("the greatest step %d was refused", greatest)
	}
	for i, v := range observed {
		if !accepted[v] {
			t.Errorf("reader saw LastStep %d, which no call was told was accepted", v)
		}
		if i > 0 && v < observed[i-1] {
			t.Errorf("reader saw LastStep go back from %d to %d", observed[i-1], v)
		}
	}
	d.LastStep, d.Drift, d.LastUsedAt = greatest, drift(greatest), at(greatest)
	wantDevice(t, s, d)
}
