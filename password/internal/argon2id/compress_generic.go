package argon2id

import "math/bits"

// compressGeneric is the compression function G of RFC 9106 §3.5 in
// portable Go: out = P-columns(P-rows(x ⊕ y)) ⊕ x ⊕ y, xored into out
// instead of written over it when xor is set (passes after the first).
func compressGeneric(out, x, y *block, xor bool) {
	var r, q block
	for i := range r {
		r[i] = x[i] ^ y[i]
	}
	q = r
	for row := range 8 {
		permute(&q, &rowWords[row])
	}
	for col := range 8 {
		permute(&q, &colWords[col])
	}
	if xor {
		for i := range out {
			out[i] ^= q[i] ^ r[i]
		}
		return
	}
	for i := range out {
		out[i] = q[i] ^ r[i]
	}
}

// rowWords[i] and colWords[i] name the 16 words of the block, as the
// 8 16-byte registers of row i and column i, that one application of P
// works on.
var rowWords, colWords = func() (rows, cols [8][16]int) {
	for i := range 8 {
		for k := range 8 {
			rows[i][2*k], rows[i][2*k+1] = 16*i+2*k, 16*i+2*k+1
			cols[i][2*k], cols[i][2*k+1] = 16*k+2*i, 16*k+2*i+1
		}
	}
	return rows, cols
}()

// permute is P: one BLAKE2b round with the multiplications of BlaMka, on
// the 16 words of q that w names, as a 4×4 matrix: its columns, then its
// diagonals.
func permute(q *block, w *[16]int) {
	v0, v1, v2, v3 := q[w[0]], q[w[1]], q[w[2]], q[w[3]]
	v4, v5, v6, v7 := q[w[4]], q[w[5]], q[w[6]], q[w[7]]
	v8, v9, v10, v11 := q[w[8]], q[w[9]], q[w[10]], q[w[11]]
	v12, v13, v14, v15 := q[w[12]], q[w[13]], q[w[14]], q[w[15]]
	v0, v4, v8, v12 = gb(v0, v4, v8, v12)
	v1, v5, v9, v13 = gb(v1, v5, v9, v13)
	v2, v6, v10, v14 = gb(v2, v6, v10, v14)
	v3, v7, v11, v15 = gb(v3, v7, v11, v15)
	v0, v5, v10, v15 = gb(v0, v5, v10, v15)
	v1, v6, v11, v12 = gb(v1, v6, v11, v12)
	v2, v7, v8, v13 = gb(v2, v7, v8, v13)
	v3, v4, v9, v14 = gb(v3, v4, v9, v14)
	q[w[0]], q[w[1]], q[w[2]], q[w[3]] = v0, v1, v2, v3
	q[w[4]], q[w[5]], q[w[6]], q[w[7]] = v4, v5, v6, v7
	q[w[8]], q[w[9]], q[w[10]], q[w[11]] = v8, v9, v10, v11
	q[w[12]], q[w[13]], q[w[14]], q[w[15]] = v12, v13, v14, v15
}

// gb is GB of RFC 9106 §3.6: BLAKE2b's G with each addition a+b made
// a + b + 2·lo(a)·lo(b).
func gb(a, b, c, d uint64) (uint64, uint64, uint64, uint64) {
	a = a + b + 2*(a&0xffffffff)*(b&0xffffffff)
	d = bits.RotateLeft64(d^a, -32)
	c = c + d + 2*(c&0xffffffff)*(d&0xffffffff)
	b = bits.RotateLeft64(b^c, -24)
	a = a + b + 2*(a&0xffffffff)*(b&0xffffffff)
	d = bits.RotateLeft64(d^a, -16)
	c = c + d + 2*(c&0xffffffff)*(d&0xffffffff)
	b = bits.RotateLeft64(b^c, -63)
	return a, b, c, d
}
