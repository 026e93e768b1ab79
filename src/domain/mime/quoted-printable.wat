;; Quoted-printable (RFC 2045 §6.7) from UTF-8 bytes to ASCII bytes, the same
;; rules and the same bytes as the JavaScript encoder in quoted-printable.ts:
;; line breaks (CRLF, lone CR or lone LF) become CRLF; a line holds at most 75
;; characters before its soft-break `=`; a character's escapes stay on one
;; line; a space or tab before a line break or at the end is escaped.
;; Compiled to quoted-printable-wasm.ts by `npm run build:wasm`; a test
;; checks that the two agree, and others that both encoders write the same
;; bytes.
(module
  (memory (export "memory") 6)

  ;; Encodes `length` bytes at `src` into `dst`; returns the number of bytes
  ;; written, or -1 once more than `capacity` are needed. The caller leaves
  ;; 16 readable bytes after the input, and room for 4 output bytes an input
  ;; byte and 32 more.
  (func (export "encode") (param $src i32) (param $length i32) (param $dst i32) (param $capacity i32) (result i32)
    (local $i i32) (local $end i32) (local $o i32) (local $limit i32)
    (local $column i32) (local $byte i32) (local $sequenceEnd i32) (local $run i32)
    (local $bytes v128) (local $thirtyTwo v128) (local $ninetyFive v128) (local $equals v128) (local $tab v128)
    (local.set $thirtyTwo (i8x16.splat (i32.const 32)))
    (local.set $ninetyFive (i8x16.splat (i32.const 95)))
    (local.set $equals (i8x16.splat (i32.const 61)))
    (local.set $tab (i8x16.splat (i32.const 9)))
    (local.set $i (local.get $src))
    (local.set $end (i32.add (local.get $src) (local.get $length)))
    (local.set $o (local.get $dst))
    (local.set $limit (i32.add (local.get $dst) (local.get $capacity)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        ;; A run of bytes written as themselves, up to 16 at a time: as many
        ;; as are literal, fit on the line and remain. The store writes all 16;
        ;; what follows the run overwrites the rest.
        (local.set $bytes (v128.load align=1 (local.get $i)))
        (local.set $run
          (i32.ctz
            (i32.or
              (i32.const 0x10000)
              (i8x16.bitmask
                (v128.not
                  (v128.or
                    (v128.and
                      (i8x16.lt_u (i8x16.sub (local.get $bytes) (local.get $thirtyTwo)) (local.get $ninetyFive))
                      (i8x16.ne (local.get $bytes) (local.get $equals)))
                    (i8x16.eq (local.get $bytes) (local.get $tab))))))))
        (if (i32.gt_u (local.get $run) (i32.sub (i32.const 75) (local.get $column)))
          (then (local.set $run (i32.sub (i32.const 75) (local.get $column)))))
        (if (i32.gt_u (local.get $run) (i32.sub (local.get $end) (local.get $i)))
          (then (local.set $run (i32.sub (local.get $end) (local.get $i)))))
        (if (local.get $run)
          (then
            (v128.store align=1 (local.get $o) (local.get $bytes))
            (local.set $i (i32.add (local.get $i) (local.get $run)))
            (local.set $o (i32.add (local.get $o) (local.get $run)))
            (local.set $column (i32.add (local.get $column) (local.get $run)))
            (br_if $done (i32.ge_u (local.get $i) (local.get $end)))))
        (local.set $byte (i32.load8_u (local.get $i)))
        ;; Printable ASCII but `=`, and tab, that found the line full: a soft
        ;; break, then the byte.
        (if (i32.or
              (i32.and
                (i32.lt_u (i32.sub (local.get $byte) (i32.const 32)) (i32.const 95))
                (i32.ne (local.get $byte) (i32.const 61)))
              (i32.eq (local.get $byte) (i32.const 9)))
          (then
            (if (i32.eq (local.get $column) (i32.const 75))
              (then
                (local.set $o (call $softBreak (local.get $o)))
                (local.set $column (i32.const 0))))
            (i32.store8 (local.get $o) (local.get $byte))
            (local.set $o (i32.add (local.get $o) (i32.const 1)))
            (local.set $column (i32.add (local.get $column) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (if (i32.gt_u (local.get $o) (local.get $limit)) (then (return (i32.const -1))))
        ;; A line break: CRLF, a lone CR or a lone LF all become CRLF.
        (if (i32.or (i32.eq (local.get $byte) (i32.const 13)) (i32.eq (local.get $byte) (i32.const 10)))
          (then
            (local.set $o
              (call $escapeTrailingSpace (local.get $o) (local.get $column)
                (if (result i32) (i32.gt_u (local.get $i) (local.get $src))
                  (then (i32.load8_u (i32.sub (local.get $i) (i32.const 1))))
                  (else (i32.const 0)))))
            (if (i32.and
                  (i32.eq (local.get $byte) (i32.const 13))
                  (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
              (then
                (if (i32.eq (i32.load8_u (i32.add (local.get $i) (i32.const 1))) (i32.const 10))
                  (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))))
            (i32.store16 align=1 (local.get $o) (i32.const 0x0a0d))
            (local.set $o (i32.add (local.get $o) (i32.const 2)))
            (local.set $column (i32.const 0))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        ;; Anything else: the whole UTF-8 sequence it starts, escaped on one
        ;; line (a stray continuation byte alone).
        (local.set $sequenceEnd
          (i32.add (local.get $i)
            (if (result i32) (i32.ge_u (local.get $byte) (i32.const 0xf0))
              (then (i32.const 4))
              (else
                (if (result i32) (i32.ge_u (local.get $byte) (i32.const 0xe0))
                  (then (i32.const 3))
                  (else (select (i32.const 2) (i32.const 1) (i32.ge_u (local.get $byte) (i32.const 0xc0)))))))))
        (if (i32.gt_u (local.get $sequenceEnd) (local.get $end))
          (then (local.set $sequenceEnd (local.get $end))))
        (if (i32.gt_u
              (i32.add (local.get $column) (i32.mul (i32.const 3) (i32.sub (local.get $sequenceEnd) (local.get $i))))
              (i32.const 75))
          (then
            (local.set $o (call $softBreak (local.get $o)))
            (local.set $column (i32.const 0))))
        (local.set $column
          (i32.add (local.get $column) (i32.mul (i32.const 3) (i32.sub (local.get $sequenceEnd) (local.get $i)))))
        (loop $escapes
          (local.set $o (call $escape (local.get $o) (i32.load8_u (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $escapes (i32.lt_u (local.get $i) (local.get $sequenceEnd))))
        (br $next)))
    (local.set $o
      (call $escapeTrailingSpace (local.get $o) (local.get $column)
        (if (result i32) (i32.gt_u (local.get $length) (i32.const 0))
          (then (i32.load8_u (i32.sub (local.get $end) (i32.const 1))))
          (else (i32.const 0)))))
    (i32.sub (local.get $o) (local.get $dst)))

  ;; A space or tab just written before a line break (`previous`) becomes
  ;; `=20` or `=09`, after a soft break when the escape would pass column 76.
  (func $escapeTrailingSpace (param $o i32) (param $column i32) (param $previous i32) (result i32)
    (local $at i32)
    (if (i32.and (i32.ne (local.get $previous) (i32.const 32)) (i32.ne (local.get $previous) (i32.const 9)))
      (then (return (local.get $o))))
    (local.set $at (i32.sub (local.get $o) (i32.const 1)))
    (if (i32.gt_u (i32.add (local.get $column) (i32.const 2)) (i32.const 76))
      (then (local.set $at (call $softBreak (local.get $at)))))
    (call $escape (local.get $at) (local.get $previous)))

  ;; `=` CR LF.
  (func $softBreak (param $o i32) (result i32)
    (i32.store8 (local.get $o) (i32.const 61))
    (i32.store16 offset=1 align=1 (local.get $o) (i32.const 0x0a0d))
    (i32.add (local.get $o) (i32.const 3)))

  ;; `=` and the byte's two upper-case hexadecimal digits, from the table.
  (func $escape (param $o i32) (param $byte i32) (result i32)
    (i32.store8 (local.get $o) (i32.const 61))
    (i32.store16 offset=1 align=1 (local.get $o)
      (i32.load16_u align=1 (i32.add (global.get $hexPairs) (i32.shl (local.get $byte) (i32.const 1)))))
    (i32.add (local.get $o) (i32.const 3)))

  ;; "00" "01" ... "FF": the two digits of each byte, in the first KiB of the
  ;; memory, which the caller leaves alone.
  (global $hexPairs i32 (i32.const 0))
  (data (i32.const 0)
    "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
    "202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F"
    "404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F"
    "606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F"
    "808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9F"
    "A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF"
    "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF"
    "E0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF"))
