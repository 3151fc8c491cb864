package bench_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/custos/custos"
	"github.com/custos/custos/internal/testserver"
)

// BenchmarkSubUserList lists and searches a root's 1,000 sub-users
// through the whole server (HTTP, the store's keyset paging and search),
// one page of 50 a request.
func BenchmarkSubUserList(b *testing.B) {
	env := testserver.Start(b, testserver.Options{})
	rootID, token := env.VerifiedHolder(b, "root@bench.example")
	now := env.Clock.Now()
	for i := range 1000 {
		id := fmt.Sprintf("acc_bench%05d", i)
		a := custos.Account{ID: id, Kind: custos.KindSubUser, Email: custos.SubUserEmail(id), PasswordHash: "x", CreatedAt: now}
		su := custos.SubUser{AccountID: id, RootAccountID: rootID, UserName: fmt.Sprintf("user-%04d", i), ConsoleLogin: true, CreatedAt: now}
		if err := env.App.Store.CreateSubUser(b.Context(), a, su, custos.AuditEvent{ID: "evt_" + id, At: now, AccountID: rootID, Type: "subuser.created"}); err != nil {
			b.Fatal(err)
		}
	}
	client := newClient(b, 1)
	for _, q := range []string{"?limit=50&after=user-0500", "?search=user-07&limit=50"} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				req, _ := http.NewRequest("GET", env.URL+"/api/v1/sub-users"+q, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				if err := roundTrip(client, req, `"user_name":"user-0`); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
