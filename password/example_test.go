package password_test

import (
	"context"
	"fmt"

	"github.com/custos/custos"
	"github.com/custos/custos/message"
	"github.com/custos/custos/password"
)

// A login handler verifies through one shared Hasher, pays the same cost
// when the account does not exist, and upgrades old hashes on success.
func ExampleHasher() {
	// In production: password.DefaultParams (or the configured ones),
	// workers 0 (one per CPU) and custos.SystemRandom.
	h := password.NewHasher(tiny, 0, byteReader(42))
	ctx := context.Background()

	stored, _ := password.Hash("correct horse battery staple", password.Params{Memory: 32, Time: 1, Threads: 1}, byteReader(1))
	accounts := map[string]string{"alice@example.com": stored}

	login := func(email, pw string) {
		encoded, found := accounts[email]
		if !found {
			_ = h.VerifyDummy(ctx, pw) // as slow as a wrong password
			fmt.Println(email, "invalid credentials")
			return
		}
		ok, needsRehash, err := h.Verify(ctx, pw, encoded)
		switch {
		case err != nil:
			fmt.Println(email, "error:", err)
		case !ok:
			fmt.Println(email, "invalid credentials")
		default:
			if needsRehash {
				accounts[email], _ = h.Hash(ctx, pw)
			}
			fmt.Println(email, "signed in, rehashed:", needsRehash)
		}
	}
	login("alice@example.com", "correct horse battery staple")
	login("alice@example.com", "correct horse battery staple")
	login("alice@example.com", "Tr0ub4dor&3")
	login("bob@example.com", "hunter22")
	fmt.Println("argon2id computations:", h.Hashes())
	// Output:
	// alice@example.com signed in, rehashed: true
	// alice@example.com signed in, rehashed: false
	// alice@example.com invalid credentials
	// bob@example.com invalid credentials
	// argon2id computations: 5
}

func ExampleCheck() {
	for _, pw := range []string{"short", "Password1", "alice-2024!", "ｆｕｌｌ　ｗｉｄｔｈ　ｏｋ"} {
		if err := password.Check(pw, "alice@example.com"); err != nil {
			// The words a person sees come from the catalogue.
			fmt.Println(custos.ErrorCode(err)+":", message.For("en").Error(err))
			continue
		}
		fmt.Println("ok")
	}
	// Output:
	// weak_password: The password must be at least 8 characters long.
	// weak_password: This password is one of the most commonly used, so it is easy to guess. Choose another.
	// weak_password: The password must not contain the part of your email address before the @.
	// ok
}
