package mfa

import (
	"context"
	"time"

	"github.com/custos/custos"
	"github.com/custos/custos/tokenimport"
)

// ImportResult says what an import did with each token.
type ImportResult struct {
	Imported  int
	Duplicate []string // serials already in the inventory, left as they were
}

// ImportTokens adds tokens to the inventory, sealing their seeds; progress
// (may be nil) is told after each token.
func (s *Service) ImportTokens(ctx context.Context, tokens []tokenimport.Token, progress func(done int)) (ImportResult, error) {
	var res ImportResult
	for i, t := range tokens {
		secret, err := s.d.Keys.Seal(s.d.Rand, t.Secret, []byte("token:"+t.Serial))
		if err != nil {
			return res, err
		}
		err = s.d.Store.ImportToken(ctx, custos.HardwareToken{
			Serial: t.Serial, Secret: secret, OTPKind: t.Kind, Algorithm: string(t.Params.Algorithm),
			Digits: t.Params.Digits, Period: int(t.Params.Period / time.Second), Counter: int64(t.Counter),
			Status: custos.TokenInStock, CreatedAt: s.d.Clock.Now(),
		})
		switch {
		case custos.IsCode(err, custos.EConflict):
			res.Duplicate = append(res.Duplicate, t.Serial)
		case err != nil:
			return res, err
		default:
			res.Imported++
		}
		if progress != nil {
			progress(i + 1)
		}
	}
	return res, nil
}
