package password

import (
	_ "embed"
	"strings"
	"sync"
)

//go:generate go run ./internal/gen/main.go -o common-passwords.txt

// commonList is the 10,000 most frequent entries of zxcvbn's "passwords"
// list, one per line, most frequent first (source and licence: NOTICE.md).
//
//go:embed common-passwords.txt
var commonList string

var (
	commonOnce sync.Once
	commonSet  map[string]struct{}
)

// isCommon reports whether folded, a password already NFKC-normalised and
// case-folded by fold, is on the common list. The set is built on first use
// so that programs that never check strength do not pay for it.
func isCommon(folded string) bool {
	commonOnce.Do(func() {
		lines := strings.Split(strings.TrimSuffix(commonList, "\n"), "\n")
		commonSet = make(map[string]struct{}, len(lines))
		for _, l := range lines {
			commonSet[fold(l)] = struct{}{}
		}
	})
	_, ok := commonSet[folded]
	return ok
}
