//go:build amd64 && !purego

package argon2id

// compressSSE2 is compressGeneric in SSE2 (compress_amd64.s): the 16 words
// of P as 8 XMM registers, two GB applications at once.
//
//go:noescape
func compressSSE2(out, x, y *block, xor bool)

func compress(out, x, y *block, xor bool) { compressSSE2(out, x, y, xor) }

const haveAsm = true
