//go:build amd64 && !purego

#include "textflag.h"

// a += b + 2·lo(a)·lo(b), in each 64-bit lane; t is scratch.
#define MULADD(a, b, t) \
	MOVO    a, t; \
	PMULULQ b, t; \
	PADDQ   b, a; \
	PADDQ   t, a; \
	PADDQ   t, a

// GB of RFC 9106 on the two columns in the lanes of a, b, c, d. The
// rotations right: 32 swaps the halves of each lane, 16 moves its 16-bit
// words down by one, 24 and 63 are shifts (63 right is 1 left).
#define G2(a, b, c, d, t) \
	MULADD(a, b, t); \
	PXOR    a, d; \
	PSHUFD  $0xB1, d, d; \
	MULADD(c, d, t); \
	PXOR    c, b; \
	MOVO    b, t; \
	PSRLQ   $24, b; \
	PSLLQ   $40, t; \
	POR     t, b; \
	MULADD(a, b, t); \
	PXOR    a, d; \
	PSHUFLW $0x39, d, d; \
	PSHUFHW $0x39, d, d; \
	MULADD(c, d, t); \
	PXOR    c, b; \
	MOVO    b, t; \
	PSRLQ   $63, t; \
	PADDQ   b, b; \
	POR     t, b

// With x0…x7 holding words (v0 v1) … (v14 v15): turn the rows of the 4×4
// matrix so that its diagonals become columns. x2, x3 become (v5 v6),
// (v7 v4); x7, x6 become (v15 v12), (v13 v14); x4 and x5 (v8 v9), (v10 v11)
// only change places, which the caller does by naming them the other way.
#define DIAG(x2, x3, x6, x7, t) \
	MOVO   x2, t; \
	SHUFPD $1, x3, x2; \
	SHUFPD $1, t, x3; \
	MOVO   x7, t; \
	SHUFPD $1, x6, x7; \
	SHUFPD $1, t, x6

// UNDIAG puts them back.
#define UNDIAG(x2, x3, x6, x7, t) \
	MOVO   x2, t; \
	SHUFPD $1, x3, t; \
	SHUFPD $1, x2, x3; \
	MOVO   x3, x2; \
	MOVO   t, x3; \
	MOVO   x6, t; \
	SHUFPD $1, x7, t; \
	SHUFPD $1, x6, x7; \
	MOVO   x7, x6; \
	MOVO   t, x7

// P on the 16 words in X0…X7; X8, X9 are scratch.
#define ROUND \
	G2(X0, X2, X4, X6, X8); \
	G2(X1, X3, X5, X7, X9); \
	DIAG(X2, X3, X6, X7, X8); \
	G2(X0, X2, X5, X7, X8); \
	G2(X1, X3, X4, X6, X9); \
	UNDIAG(X2, X3, X6, X7, X8)

// LOAD8 and STORE8 move the 8 registers of P from or to base, stride bytes
// apart (16 for a row, 128 for a column).
#define LOAD8(base, s) \
	MOVOU (0*s)(base), X0; \
	MOVOU (1*s)(base), X1; \
	MOVOU (2*s)(base), X2; \
	MOVOU (3*s)(base), X3; \
	MOVOU (4*s)(base), X4; \
	MOVOU (5*s)(base), X5; \
	MOVOU (6*s)(base), X6; \
	MOVOU (7*s)(base), X7

#define STORE8(base, s) \
	MOVOU X0, (0*s)(base); \
	MOVOU X1, (1*s)(base); \
	MOVOU X2, (2*s)(base); \
	MOVOU X3, (3*s)(base); \
	MOVOU X4, (4*s)(base); \
	MOVOU X5, (5*s)(base); \
	MOVOU X6, (6*s)(base); \
	MOVOU X7, (7*s)(base)

// XOR2 loads x^y at offset o from SI, DX into X0; X10 is scratch.
#define XOR2(o) \
	MOVOU (o)(SI)(AX*1), X0; \
	MOVOU (o)(DX)(AX*1), X10; \
	PXOR  X10, X0

// func compressSSE2(out, x, y *block, xor bool)
TEXT ·compressSSE2(SB), 0, $1024-25
	MOVQ out+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DX
	LEAQ 0(SP), BX // the 1 KiB work block q

	// q = x ^ y
	XORQ AX, AX
xy:
	XOR2(0);   MOVOU X0, 0(BX)(AX*1)
	XOR2(16);  MOVOU X0, 16(BX)(AX*1)
	XOR2(32);  MOVOU X0, 32(BX)(AX*1)
	XOR2(48);  MOVOU X0, 48(BX)(AX*1)
	XOR2(64);  MOVOU X0, 64(BX)(AX*1)
	XOR2(80);  MOVOU X0, 80(BX)(AX*1)
	XOR2(96);  MOVOU X0, 96(BX)(AX*1)
	XOR2(112); MOVOU X0, 112(BX)(AX*1)
	ADDQ $128, AX
	CMPQ AX, $1024
	JB   xy

	// P on each row (128 bytes, registers 16 bytes apart)
	MOVQ BX, CX
	MOVQ $8, R8
rows:
	LOAD8(CX, 16)
	ROUND
	STORE8(CX, 16)
	ADDQ $128, CX
	DECQ R8
	JNZ  rows

	// P on each column (registers 128 bytes apart)
	MOVQ BX, CX
	MOVQ $8, R8
cols:
	LOAD8(CX, 128)
	ROUND
	STORE8(CX, 128)
	ADDQ $16, CX
	DECQ R8
	JNZ  cols

	// out = q ^ x ^ y, or out ^= that. Each 16 bytes of x and y are read
	// before the same 16 bytes of out are written, so out may be y.
	MOVBLZX xor+24(FP), R9
	XORQ    AX, AX
	TESTQ   R9, R9
	JNZ     xorout
set:
	XOR2(0);  MOVOU 0(BX)(AX*1), X11;  PXOR X11, X0; MOVOU X0, 0(DI)(AX*1)
	XOR2(16); MOVOU 16(BX)(AX*1), X11; PXOR X11, X0; MOVOU X0, 16(DI)(AX*1)
	XOR2(32); MOVOU 32(BX)(AX*1), X11; PXOR X11, X0; MOVOU X0, 32(DI)(AX*1)
	XOR2(48); MOVOU 48(BX)(AX*1), X11; PXOR X11, X0; MOVOU X0, 48(DI)(AX*1)
	ADDQ $64, AX
	CMPQ AX, $1024
	JB   set
	RET

xorout:
	XOR2(0);  MOVOU 0(BX)(AX*1), X11;  PXOR X11, X0; MOVOU 0(DI)(AX*1), X12;  PXOR X12, X0; MOVOU X0, 0(DI)(AX*1)
	XOR2(16); MOVOU 16(BX)(AX*1), X11; PXOR X11, X0; MOVOU 16(DI)(AX*1), X12; PXOR X12, X0; MOVOU X0, 16(DI)(AX*1)
	XOR2(32); MOVOU 32(BX)(AX*1), X11; PXOR X11, X0; MOVOU 32(DI)(AX*1), X12; PXOR X12, X0; MOVOU X0, 32(DI)(AX*1)
	XOR2(48); MOVOU 48(BX)(AX*1), X11; PXOR X11, X0; MOVOU 48(DI)(AX*1), X12; PXOR X12, X0; MOVOU X0, 48(DI)(AX*1)
	ADDQ $64, AX
	CMPQ AX, $1024
	JB   xorout
	RET
