;; Base64 (RFC 4648 §4) in lines of 76 characters ending in CRLF (RFC 2045 §6.8),
;; with 128-bit SIMD. Compiled to src/domain/mime/base64-lines-wasm.ts by
;; `npm run build:wasm`; a test checks that the two agree.
;;
;; The method is Wojciech Muła's (http://0x80.pl/notesen/2016-01-12-sse-base64-encoding.html):
;; twelve input bytes become sixteen 6-bit indices in one register, and the
;; indices become ASCII by adding an offset looked up by range.
(module
  (memory (export "memory") 2)

  ;; Encodes `lines` lines of 57 bytes read from `src` as 76 characters plus
  ;; CRLF each, written from `dst`; returns the offset after the last CRLF.
  ;; Reads up to 7 bytes past the last line and writes 2 bytes past the
  ;; returned offset: the caller leaves room for both.
  (func (export "encodeLines") (param $src i32) (param $lines i32) (param $dst i32) (result i32)
    (local $end i32) (local $group i32)
    (local $shuffle v128) (local $multiply v128) (local $middle v128) (local $first v128) (local $third v128)
    (local $fiftyOne v128) (local $twentySix v128) (local $thirteen v128) (local $offsets v128)
    (local $bytes v128) (local $indices v128) (local $range v128)
    ;; Input bytes b0 b1 b2 of each group of three, as the 32-bit lane b1 b0 b2 b1.
    (local.set $shuffle (v128.const i8x16 1 0 2 1 4 3 5 4 7 6 8 7 10 9 11 10))
    ;; Per 16-bit half: the low half shifted left by 4, the high half by 8.
    (local.set $multiply (v128.const i16x8 16 256 16 256 16 256 16 256))
    (local.set $middle (v128.const i16x8 0x3f00 0x3f00 0x3f00 0x3f00 0x3f00 0x3f00 0x3f00 0x3f00))
    (local.set $first (v128.const i32x4 0x3f 0x3f 0x3f 0x3f))
    (local.set $third (v128.const i32x4 0x3f0000 0x3f0000 0x3f0000 0x3f0000))
    (local.set $fiftyOne (i8x16.splat (i32.const 51)))
    (local.set $twentySix (i8x16.splat (i32.const 26)))
    (local.set $thirteen (i8x16.splat (i32.const 13)))
    ;; What to add to an index to get its character, by range:
    ;; 0 for a..z ('a' - 26), 1 to 10 for 0..9 ('0' - 52), 11 for '+', 12 for '/', 13 for A..Z.
    (local.set $offsets (v128.const i8x16 71 -4 -4 -4 -4 -4 -4 -4 -4 -4 -4 -19 -16 65 0 0))
    (local.set $end (i32.add (local.get $src) (i32.mul (local.get $lines) (i32.const 57))))
    (block $done
      (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
      (loop $line
        ;; Five groups of 12 bytes make 80 characters: the last four are
        ;; overwritten by the CRLF and by the next line.
        (local.set $group (i32.const 0))
        (loop $groups
          (local.set $bytes
            (i8x16.swizzle
              (v128.load align=1 (i32.add (local.get $src) (i32.mul (local.get $group) (i32.const 12))))
              (local.get $shuffle)))
          ;; The four 6-bit indices of each lane, in place.
          (local.set $indices
            (v128.or
              (v128.and (i16x8.mul (local.get $bytes) (local.get $multiply)) (local.get $middle))
              (v128.or
                (v128.and (i32x4.shr_u (local.get $bytes) (i32.const 10)) (local.get $first))
                (v128.and (i32x4.shr_u (local.get $bytes) (i32.const 6)) (local.get $third)))))
          ;; Index to range: 1 to 12 above 51, 13 below 26, 0 between.
          (local.set $range
            (v128.or
              (i8x16.sub_sat_u (local.get $indices) (local.get $fiftyOne))
              (v128.and (i8x16.gt_s (local.get $twentySix) (local.get $indices)) (local.get $thirteen))))
          (v128.store align=1
            (i32.add (local.get $dst) (i32.shl (local.get $group) (i32.const 4)))
            (i8x16.add (local.get $indices) (i8x16.swizzle (local.get $offsets) (local.get $range))))
          (br_if $groups (i32.lt_u (local.tee $group (i32.add (local.get $group) (i32.const 1))) (i32.const 5))))
        (i32.store16 offset=76 align=1 (local.get $dst) (i32.const 0x0a0d))
        (local.set $src (i32.add (local.get $src) (i32.const 57)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 78)))
        (br_if $line (i32.lt_u (local.get $src) (local.get $end)))))
    (local.get $dst)))
