package auth

import (
	"context"

	"github.com/custos/custos"
	"github.com/custos/custos/message"
)

// SetLanguage saves the language the holder chose for the account: the
// catalogue tag lang names ("zh", "zh-Hans" and "zh-CN" are all "zh-CN"),
// which it returns. The pages follow it when the browser names no choice
// of its own, and the messages sent later are written in it. A tag no
// catalogue has is EInvalidLanguage.
func (s *Service) SetLanguage(ctx context.Context, accountID, lang string) (string, error) {
	tag, ok := message.Supported(lang)
	if !ok {
		return "", custos.Fail(custos.EInvalidLanguage, "error.invalid_language").OnField("language")
	}
	if err := s.d.Store.SetLanguage(ctx, accountID, tag); err != nil {
		return "", err
	}
	return tag, nil
}
