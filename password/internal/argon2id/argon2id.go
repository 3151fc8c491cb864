// Package argon2id is Argon2id (RFC 9106, version 0x13) over a work area
// the caller keeps and reuses.
//
// golang.org/x/crypto/argon2 allocates, zeroes and drops the whole memory
// cost (19 MiB at Custos's defaults) on every call, so a busy server's heap
// churns by that much per login and its collector runs to keep up. Here
// the blocks live in a Memory that a hash worker owns for its lifetime:
// after the first hash a login allocates nothing of that size, the heap
// stays flat, and no page is zeroed twice (every block is written before
// it is read, so reuse needs no clearing).
//
// The compression function is written for amd64 in SSE2 (every amd64 has
// it) and in portable Go elsewhere; the tests hold both to each other, to
// RFC 9106's test vector and to x/crypto on random inputs.
package argon2id

import (
	"encoding/binary"
	"hash"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// Version is the Argon2 version implemented, 0x13.
const Version = 0x13

const (
	typeID     = 2   // y for Argon2id
	blockWords = 128 // 1 KiB
	syncPoints = 4   // slices per pass
)

type block [blockWords]uint64

// Memory is a reusable work area for Key. The zero value is ready; it
// grows to the largest memory cost it has been used with and stays so.
// A Memory must not be used by two calls at once.
type Memory struct {
	blocks []block
}

// Bytes reports how much memory m holds.
func (m *Memory) Bytes() int { return len(m.blocks) * blockWords * 8 }

// Key derives a keyLen-byte Argon2id tag of password with salt, the
// optional secret and associated data, time passes over memoryKiB KiB in
// threads lanes, in the blocks of mem (nil: a fresh area, dropped after).
// The parameters are the caller's to bound: memoryKiB ≥ 8·threads,
// time ≥ 1, threads ≥ 1, keyLen ≥ 4.
func Key(mem *Memory, password, salt, secret, data []byte, time, memoryKiB uint32, threads uint8, keyLen uint32) []byte {
	if time < 1 || threads < 1 || memoryKiB < 8*uint32(threads) || keyLen < 4 {
		panic("argon2id: parameters out of bounds")
	}
	if mem == nil {
		mem = new(Memory)
	}
	lanes := uint32(threads)
	// m' = 4·p·⌊m / 4p⌋ blocks; each lane holds q = m'/p of them.
	total := memoryKiB / (syncPoints * lanes) * (syncPoints * lanes)
	if uint32(len(mem.blocks)) < total {
		mem.blocks = make([]block, total)
	}
	B := mem.blocks[:total]
	laneLen := total / lanes

	h0 := initialHash(password, salt, secret, data, time, memoryKiB, lanes, keyLen)
	var buf [blockWords * 8]byte
	var seed [blake2b.Size + 8]byte
	copy(seed[:], h0[:])
	for l := range lanes {
		binary.LittleEndian.PutUint32(seed[blake2b.Size+4:], l)
		for j := range uint32(2) {
			binary.LittleEndian.PutUint32(seed[blake2b.Size:], j)
			longHash(buf[:], seed[:])
			load(&B[l*laneLen+j], &buf)
		}
	}

	f := filler{B: B, lanes: lanes, laneLen: laneLen, segLen: laneLen / syncPoints, total: total, time: time}
	for pass := range time {
		for slice := range uint32(syncPoints) {
			if lanes == 1 {
				f.segment(pass, slice, 0)
				continue
			}
			// The lanes of one slice depend only on earlier slices.
			var wg sync.WaitGroup
			for l := range lanes {
				wg.Go(func() { f.segment(pass, slice, l) })
			}
			wg.Wait()
		}
	}

	final := B[laneLen-1]
	for l := uint32(1); l < lanes; l++ {
		last := &B[l*laneLen+laneLen-1]
		for i := range final {
			final[i] ^= last[i]
		}
	}
	store(&buf, &final)
	tag := make([]byte, keyLen)
	longHash(tag, buf[:])
	return tag
}

// initialHash is H0 of RFC 9106 §3.2.
func initialHash(password, salt, secret, data []byte, time, memoryKiB, lanes, keyLen uint32) [blake2b.Size]byte {
	h, _ := blake2b.New512(nil)
	var w [4]byte
	put := func(v uint32) {
		binary.LittleEndian.PutUint32(w[:], v)
		h.Write(w[:])
	}
	for _, v := range []uint32{lanes, keyLen, memoryKiB, time, Version, typeID} {
		put(v)
	}
	for _, b := range [][]byte{password, salt, secret, data} {
		put(uint32(len(b)))
		h.Write(b)
	}
	var out [blake2b.Size]byte
	h.Sum(out[:0])
	return out
}

// longHash fills out with H' of RFC 9106 §3.3, the variable-length hash,
// of in.
func longHash(out, in []byte) {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(out)))
	if len(out) <= blake2b.Size {
		h := mustBlake2b(len(out))
		h.Write(n[:])
		h.Write(in)
		h.Sum(out[:0])
		return
	}
	// V1 = H(len ‖ in); each next V is the hash of the one before; out is
	// the first half of every V but the last, then the last in full,
	// sized to what remains.
	var v [blake2b.Size]byte
	h := mustBlake2b(blake2b.Size)
	h.Write(n[:])
	h.Write(in)
	h.Sum(v[:0])
	o := copy(out, v[:blake2b.Size/2])
	for len(out)-o > blake2b.Size {
		h.Reset()
		h.Write(v[:])
		h.Sum(v[:0])
		o += copy(out[o:], v[:blake2b.Size/2])
	}
	last := mustBlake2b(len(out) - o)
	last.Write(v[:])
	last.Sum(out[o:o])
}

func mustBlake2b(size int) hash.Hash {
	h, err := blake2b.New(size, nil)
	if err != nil {
		panic(err) // size is 1…64 by construction
	}
	return h
}

func load(b *block, buf *[blockWords * 8]byte) {
	for i := range b {
		b[i] = binary.LittleEndian.Uint64(buf[i*8:])
	}
}

func store(buf *[blockWords * 8]byte, b *block) {
	for i := range b {
		binary.LittleEndian.PutUint64(buf[i*8:], b[i])
	}
}

// filler computes the segments of one hash.
type filler struct {
	B                             []block
	lanes, laneLen, segLen, total uint32
	time                          uint32
}

// segment computes the blocks of lane l in slice s of the pass (RFC 9106
// §3.4). Argon2id addresses the first half of the first pass
// independently of the data (from a counter-driven address block) and
// everything after from the previous block's first word.
func (f *filler) segment(pass, slice, lane uint32) {
	independent := pass == 0 && slice < syncPoints/2
	var input, addresses, zero block
	if independent {
		input[0], input[1], input[2] = uint64(pass), uint64(lane), uint64(slice)
		input[3], input[4], input[5] = uint64(f.total), uint64(f.time), typeID
	}
	nextAddresses := func() {
		input[6]++
		compress(&addresses, &zero, &input, false)
		compress(&addresses, &zero, &addresses, false)
	}
	first := uint32(0)
	if pass == 0 && slice == 0 {
		first = 2 // the first two blocks of a lane come from H0
		if independent {
			nextAddresses()
		}
	}
	base := lane * f.laneLen
	cur := base + slice*f.segLen + first
	for i := first; i < f.segLen; i, cur = i+1, cur+1 {
		prev := cur - 1
		if slice == 0 && i == 0 {
			prev = base + f.laneLen - 1 // wraps to the lane's last block
		}
		var rnd uint64
		if independent {
			if i%blockWords == 0 {
				nextAddresses()
			}
			rnd = addresses[i%blockWords]
		} else {
			rnd = f.B[prev][0]
		}
		ref := f.reference(rnd, pass, slice, lane, i)
		compress(&f.B[cur], &f.B[prev], &f.B[ref], pass > 0)
	}
}

// reference maps the pseudo-random word rnd to the block the i-th block
// of lane's segment in slice mixes in (RFC 9106 §3.4.1.2).
func (f *filler) reference(rnd uint64, pass, slice, lane, i uint32) uint32 {
	j1, j2 := rnd&0xffffffff, uint32(rnd>>32)
	refLane := j2 % f.lanes
	if pass == 0 && slice == 0 {
		refLane = lane
	}
	// The area: every block of the lane finished so far (this pass's
	// earlier slices, and in later passes the other three slices), less
	// the previous block when it is the current lane's; another lane's
	// current segment is never in it.
	var area uint32
	switch {
	case pass == 0 && refLane == lane:
		area = slice*f.segLen + i - 1
	case pass == 0:
		area = slice * f.segLen
		if i == 0 {
			area--
		}
	case refLane == lane:
		area = f.laneLen - f.segLen + i - 1
	default:
		area = f.laneLen - f.segLen
		if i == 0 {
			area--
		}
	}
	x := j1 * j1 >> 32
	y := uint64(area) * x >> 32
	z := uint64(area) - 1 - y
	start := uint64(0)
	if pass > 0 && slice != syncPoints-1 {
		start = uint64((slice + 1) * f.segLen)
	}
	return refLane*f.laneLen + uint32((start+z)%uint64(f.laneLen))
}
