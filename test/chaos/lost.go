package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/tenant-operator/tenant-operator/api/v1alpha1"
	"github.com/tenant-operator/tenant-operator/internal/accountserver"
	"github.com/tenant-operator/tenant-operator/internal/harness"
)

// lostTarget is one remote object both sides write: the operator its
// contact's first name (managed: the spec sets it), the out-of-band writer
// its contact's phone (unmanaged: the spec leaves it out).
type lostTarget struct {
	kind, name, id string
}

func (t lostTarget) key() string { return t.kind + "/" + t.name }

// lostUpdates has the operator change managed fields of tenants and users
// while an out-of-band writer changes an unmanaged one, then checks that
// every change of either side is on the server.
func (c *chaos) lostUpdates(ctx context.Context, rs *results) error {
	st, err := c.newStage(ctx, scLost, "lost-updates")
	if err != nil {
		return err
	}
	defer st.release()
	m := st.mgrs[0]
	if err := m.Start(ctx, st.flags); err != nil {
		return err
	}
	if err := c.waitConnection(ctx, st); err != nil {
		return err
	}
	n := c.cfg.lostObjects
	var objs []client.Object
	for i := range n {
		name := fmt.Sprintf("l-%04d", i)
		objs = append(objs, tenant(st, name), user(st, name+"-user", name, v1.ActivationNone))
	}
	if err := createAll(ctx, c.k8s, objs); err != nil {
		return err
	}
	if _, ok, err := c.waitReady(ctx, st, len(objs), c.cfg.timeout, m); err != nil || !ok {
		return fmt.Errorf("the %d objects of lost-updates did not become Ready: %v", len(objs), err)
	}
	var targets []lostTarget
	var ts v1.TenantList
	if err := c.k8s.List(ctx, &ts, client.InNamespace(st.ns)); err != nil {
		return err
	}
	for _, t := range ts.Items {
		targets = append(targets, lostTarget{kind: kindTenant, name: t.Name, id: t.Status.ID})
	}
	var us v1.UserList
	if err := c.k8s.List(ctx, &us, client.InNamespace(st.ns)); err != nil {
		return err
	}
	for _, u := range us.Items {
		targets = append(targets, lostTarget{kind: kindUser, name: u.Name, id: u.Status.ID})
	}

	c.logf("[%s] for %s: spec edits of %d tenants and %d users every %s, out-of-band phone changes through the API, under the rollout's faults",
		st.name, c.cfg.lostFor, n, n, c.cfg.editEvery)
	st.emu.SetFaults(c.faults())
	phaseStart := time.Now()
	phase, stopPhase := context.WithTimeout(ctx, c.cfg.lostFor)
	defer stopPhase()
	var (
		wg        sync.WaitGroup
		edits     atomic.Int64
		editErr   error
		writes    atomic.Int64
		conflicts atomic.Int64
		unsure    atomic.Int64
		phonesMu  sync.Mutex
		phones    = map[string]string{} // what the writer last wrote and saw written
	)
	wg.Go(func() {
		for round := 1; ; round++ {
			if err := c.editRound(phase, st, targets, round); err != nil {
				if phase.Err() == nil {
					editErr = err
				}
				return
			}
			edits.Add(int64(len(targets)))
			t := time.NewTimer(c.cfg.editEvery)
			select {
			case <-phase.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	})
	const writers = 4
	for w := range writers {
		wg.Go(func() {
			for round := 1; phase.Err() == nil; round++ {
				for i := w; i < len(targets) && phase.Err() == nil; i += writers {
					tg := targets[i]
					phone := fmt.Sprintf("+1 555 %04d %03d", round, i%1000)
					// The write in flight is finished even after the phase
					// ends: what it wrote must be known.
					opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
					nc, err := setPhone(opCtx, st.admin, tg, phone)
					cancel()
					conflicts.Add(int64(nc))
					if err != nil {
						// Unknown whether it landed: the object's phone is
						// left out of the check from here on.
						unsure.Add(1)
						phonesMu.Lock()
						phones[tg.key()] = "?"
						phonesMu.Unlock()
						c.vlogf("[%s] out-of-band write of %s: %v", st.name, tg.key(), err)
						continue
					}
					writes.Add(1)
					phonesMu.Lock()
					if phones[tg.key()] != "?" {
						phones[tg.key()] = phone
					}
					phonesMu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if editErr != nil {
		return editErr
	}
	st.emu.SetFaults(c.calm())
	calm := time.Now()
	c.logf("[%s] %d spec edits and %d out-of-band writes (%d of them conflicted and were read again) in %.0fs; faults stopped",
		st.name, edits.Load(), writes.Load(), conflicts.Load(), calm.Sub(phaseStart).Seconds())

	r, allReady, err := c.waitReady(ctx, st, len(objs), c.cfg.timeout, m)
	if err != nil {
		return err
	}
	// Ready says the operator wrote its last change; both sides' values
	// are then compared until they match or the goal's time has passed.
	wantPhone := map[string]string{}
	for k, v := range phones {
		if v != "?" {
			wantPhone[k] = v
		}
	}
	var lostPhones, lostSpecs []string
	_ = harness.Poll(ctx, time.Second, c.cfg.readyGoal, func() (bool, error) {
		wantFirst, gotFirst, gotPhone, err := c.lostState(ctx, st, targets)
		if err != nil {
			return false, err
		}
		lostPhones, lostSpecs = lost(wantPhone, gotPhone), lost(wantFirst, gotFirst)
		return len(lostPhones) == 0 && len(lostSpecs) == 0, nil
	})
	st.stop()
	operator409, writer409 := 0, 0
	for _, rec := range st.emu.Requests() {
		if rec.Status != http.StatusConflict {
			continue
		}
		switch rec.Client {
		case st.clientID:
			operator409++
		case st.emu.Bootstrap().ClientID:
			writer409++
		}
	}
	sc := scLost
	rs.add(sc, "objects; seconds both sides wrote (under the rollout's faults)", fmt.Sprintf("%d tenants + %d users; %.0f", n, n, calm.Sub(phaseStart).Seconds()))
	rs.add(sc, "spec edits (first name); out-of-band writes (phone) confirmed; unsure", fmt.Sprintf("%s; %s; %d", harness.FmtInt(int(edits.Load())), harness.FmtInt(int(writes.Load())), unsure.Load()))
	rs.add(sc, "stale-version answers (409): operator / out-of-band writer", fmt.Sprintf("%d / %d", operator409, writer409))
	rs.goal(sc, "out-of-band changes lost", fmt.Sprint(len(lostPhones))+examples(lostPhones), "0", len(lostPhones) == 0)
	rs.goal(sc, "spec changes not on the server", fmt.Sprint(len(lostSpecs))+examples(lostSpecs), "0", len(lostSpecs) == 0)
	notReady := r.total - r.ready
	rs.goal(sc, "objects not Ready at the end", fmt.Sprint(notReady)+examples(r.notReady), "0", allReady)
	return nil
}

// editRound sets the first name of every target's spec contact to R<round>.
func (c *chaos) editRound(ctx context.Context, st *stage, targets []lostTarget, round int) error {
	patch := []byte(fmt.Sprintf(`{"spec":{"contact":{"firstname":"R%d"}}}`, round))
	objs := make([]client.Object, 0, len(targets))
	for _, tg := range targets {
		var o client.Object = &v1.Tenant{}
		if tg.kind == kindUser {
			o = &v1.User{}
		}
		o.SetNamespace(st.ns)
		o.SetName(tg.name)
		objs = append(objs, o)
	}
	return forAll(ctx, objs, 8, func(o client.Object) error {
		return c.k8s.Patch(ctx, o, client.RawPatch(types.MergePatchType, patch))
	})
}

// lostState reads what both sides must find: each target's spec first name
// (wantFirst), and its first name and phone on the server.
func (c *chaos) lostState(ctx context.Context, st *stage, targets []lostTarget) (wantFirst, gotFirst, gotPhone map[string]string, err error) {
	wantFirst, gotFirst, gotPhone = map[string]string{}, map[string]string{}, map[string]string{}
	var ts v1.TenantList
	if err := c.k8s.List(ctx, &ts, client.InNamespace(st.ns)); err != nil {
		return nil, nil, nil, err
	}
	for _, t := range ts.Items {
		if t.Spec.Contact != nil {
			wantFirst[kindTenant+"/"+t.Name] = t.Spec.Contact.Firstname
		}
	}
	var us v1.UserList
	if err := c.k8s.List(ctx, &us, client.InNamespace(st.ns)); err != nil {
		return nil, nil, nil, err
	}
	for _, u := range us.Items {
		wantFirst[kindUser+"/"+u.Name] = u.Spec.Contact.Firstname
	}
	for _, tg := range targets {
		switch tg.kind {
		case kindTenant:
			if t, ok := st.emu.Tenant(tg.id); ok {
				gotFirst[tg.key()], gotPhone[tg.key()] = t.Contact.Firstname, t.Contact.Phone
			}
		case kindUser:
			if u, ok := st.emu.User(tg.id); ok {
				gotFirst[tg.key()], gotPhone[tg.key()] = u.Contact.Firstname, u.Contact.Phone
			}
		}
	}
	return wantFirst, gotFirst, gotPhone, nil
}

// setPhone is what a person's tool does: read the object, change the
// phone in the contact as read, write the whole contact back with the
// version read; a stale version is read again. It returns how many writes
// were refused as stale, and fails only when it cannot tell whether the
// phone is on the server.
func setPhone(ctx context.Context, admin *accountserver.Client, tg lostTarget, phone string) (int, error) {
	conflicts := 0
	var last error
	for attempt := 0; attempt < 30; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(time.Duration(min(attempt, 10)) * 100 * time.Millisecond)
			select {
			case <-ctx.Done():
				t.Stop()
				return conflicts, fmt.Errorf("%w (last: %v)", ctx.Err(), last)
			case <-t.C:
			}
		}
		var (
			contact accountserver.Contact
			version int64
		)
		switch tg.kind {
		case kindTenant:
			t, err := admin.GetTenant(ctx, tg.id)
			if err != nil {
				last = err
				continue
			}
			contact, version = t.Contact, t.Version
		default:
			u, err := admin.GetUser(ctx, tg.id)
			if err != nil {
				last = err
				continue
			}
			contact, version = u.Contact, u.Version
		}
		if contact.Phone == phone {
			return conflicts, nil // an earlier attempt landed
		}
		contact.Phone = phone
		var err error
		switch tg.kind {
		case kindTenant:
			_, err = admin.UpdateTenant(ctx, tg.id, accountserver.TenantUpdate{Version: version, Contact: &contact})
		default:
			_, err = admin.UpdateUser(ctx, tg.id, accountserver.UserUpdate{Version: version, Contact: &contact})
		}
		switch {
		case err == nil:
			return conflicts, nil
		case accountserver.IsStaleVersion(err):
			conflicts++
		}
		// Stale, or unknown (a lost answer): read again and see.
		last = err
	}
	return conflicts, fmt.Errorf("gave up: %v", last)
}

// forAll runs fn for every object with workers in flight; the first error
// stops the rest.
func forAll(ctx context.Context, objs []client.Object, workers int, fn func(client.Object) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(objs) || ctx.Err() != nil {
					return
				}
				if err := fn(objs[i]); err != nil {
					once.Do(func() {
						first = fmt.Errorf("%T %s: %w", objs[i], objs[i].GetName(), err)
						cancel()
					})
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}
