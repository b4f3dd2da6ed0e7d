;; NAS Studio's WebAssembly SIMD training kernels. They run INSIDE tfjs-backend-wasm's memory (imported as
;; env.memory), so they read and write tensors in place: every pointer argument is a byte address of a float32
;; tensor that tfjs-backend-wasm allocated. The module owns no memory, no globals and no data segments.
;; Assembled by scripts/build-simd.mjs (wabt) into kernels-wasm.ts; test/unit/engine/simd-build.test.ts checks
;; that the committed bytes are this file's. Wrappers and fallbacks: src/engine/compute/simd/index.ts.
(module
  (import "env" "memory" (memory 1))

  ;; MaxPoolGrad of the exact 2x2 / stride 2 / no-padding pool in NHWC: x and dx are [b, 2*oh, 2*ow, c],
  ;; dy is [b, oh, ow, c], rows = b * oh, c a multiple of 4. Each window gives dy to its FIRST maximum in
  ;; row-major order (strictly greater wins, starting from -Infinity, so an all-NaN window gives nothing), as
  ;; tfjs's cpu backend does; every dx cell is written.
  (func (export "maxPoolGrad2x2")
    (param $x i32) (param $dy i32) (param $dx i32) (param $rows i32) (param $ow i32) (param $c i32)
    (local $cb i32) (local $rowBytes i32) (local $off i32) (local $p i32) (local $d i32)
    (local $rowEnd i32) (local $pixEnd i32) (local $r i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $v3 v128) (local $m v128)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128) (local $later v128) (local $gv v128)
    (local.set $cb (i32.shl (local.get $c) (i32.const 2)))
    (local.set $rowBytes (i32.mul (i32.shl (local.get $ow) (i32.const 1)) (local.get $cb)))
    (local.set $off (i32.sub (local.get $dx) (local.get $x)))
    (local.set $p (local.get $x))
    (local.set $d (local.get $dy))
    (block $done
      (loop $rowLoop
        (br_if $done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $rowEnd (i32.add (local.get $p) (local.get $rowBytes)))
        (block $rowDone
          (loop $pixLoop
            (br_if $rowDone (i32.ge_u (local.get $p) (local.get $rowEnd)))
            (local.set $pixEnd (i32.add (local.get $p) (local.get $cb)))
            (loop $chLoop
              (local.set $v0 (v128.load (local.get $p)))
              (local.set $v1 (v128.load (i32.add (local.get $p) (local.get $cb))))
              (local.set $v2 (v128.load (i32.add (local.get $p) (local.get $rowBytes))))
              (local.set $v3
                (v128.load (i32.add (i32.add (local.get $p) (local.get $rowBytes)) (local.get $cb))))
              (local.set $m (f32x4.splat (f32.const -inf)))
              (local.set $g0 (f32x4.gt (local.get $v0) (local.get $m)))
              (local.set $m (v128.bitselect (local.get $v0) (local.get $m) (local.get $g0)))
              (local.set $g1 (f32x4.gt (local.get $v1) (local.get $m)))
              (local.set $m (v128.bitselect (local.get $v1) (local.get $m) (local.get $g1)))
              (local.set $g2 (f32x4.gt (local.get $v2) (local.get $m)))
              (local.set $m (v128.bitselect (local.get $v2) (local.get $m) (local.get $g2)))
              (local.set $g3 (f32x4.gt (local.get $v3) (local.get $m)))
              ;; winner k: g_k and no later g (a later strict maximum supersedes it)
              (local.set $gv (v128.load (local.get $d)))
              (local.set $later (local.get $g3))
              (v128.store
                (i32.add (i32.add (i32.add (local.get $p) (local.get $rowBytes)) (local.get $cb)) (local.get $off))
                (v128.and (local.get $gv) (local.get $g3)))
              (v128.store (i32.add (i32.add (local.get $p) (local.get $rowBytes)) (local.get $off))
                (v128.and (local.get $gv) (v128.andnot (local.get $g2) (local.get $later))))
              (local.set $later (v128.or (local.get $later) (local.get $g2)))
              (v128.store (i32.add (i32.add (local.get $p) (local.get $cb)) (local.get $off))
                (v128.and (local.get $gv) (v128.andnot (local.get $g1) (local.get $later))))
              (local.set $later (v128.or (local.get $later) (local.get $g1)))
              (v128.store (i32.add (local.get $p) (local.get $off))
                (v128.and (local.get $gv) (v128.andnot (local.get $g0) (local.get $later))))
              (local.set $p (i32.add (local.get $p) (i32.const 16)))
              (local.set $d (i32.add (local.get $d) (i32.const 16)))
              (br_if $chLoop (i32.lt_u (local.get $p) (local.get $pixEnd))))
            ;; skip the window's right-hand pixel (already done with this one)
            (local.set $p (i32.add (local.get $p) (local.get $cb)))
            (br $pixLoop)))
        ;; skip the window's bottom row
        (local.set $p (i32.add (local.get $p) (local.get $rowBytes)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop))))

  ;; ReLU's gradient: dx[i] = x[i] > 0 ? dy[i] : 0 for n floats (any n).
  (func (export "reluGrad") (param $dy i32) (param $x i32) (param $dx i32) (param $n i32)
    (local $i i32) (local $end4 i32) (local $zero v128)
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $zero (f32x4.splat (f32.const 0)))
    (block $vdone
      (loop $v
        (br_if $vdone (i32.ge_u (local.get $i) (local.get $end4)))
        (v128.store (i32.add (local.get $dx) (local.get $i))
          (v128.and
            (v128.load (i32.add (local.get $dy) (local.get $i)))
            (f32x4.gt (v128.load (i32.add (local.get $x) (local.get $i))) (local.get $zero))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $v)))
    (local.set $end4 (i32.shl (local.get $n) (i32.const 2)))
    (block $sdone
      (loop $s
        (br_if $sdone (i32.ge_u (local.get $i) (local.get $end4)))
        (f32.store (i32.add (local.get $dx) (local.get $i))
          (select
            (f32.load (i32.add (local.get $dy) (local.get $i)))
            (f32.const 0)
            (f32.gt (f32.load (i32.add (local.get $x) (local.get $i))) (f32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $s))))

  ;; One filter tap's share of Conv2DBackpropFilter along one output row: for `count` output pixels,
  ;; dw[q, o] += x[pixel, q] * dy[pixel, o] for every input channel q < ci and output channel o < co, where
  ;; x points at the tap's input pixel of the first output pixel (consecutive output pixels are xStep bytes
  ;; apart), dy at the first output pixel's gradient (co floats per pixel) and dw at the tap's [ci, co] block.
  ;; ci a multiple of 4, co a multiple of 8: tiles of 4 input x 8 output channels live in eight registers
  ;; while the row's pixels stream through (the row of x and dy stays in L1 across tiles).
  (func (export "filterGradTap")
    (param $x i32) (param $dy i32) (param $dw i32) (param $count i32) (param $xStep i32)
    (param $ci i32) (param $co i32)
    (local $cob i32) (local $q i32) (local $o i32) (local $px i32) (local $pd i32) (local $n i32)
    (local $t0 i32) (local $t1 i32) (local $t2 i32) (local $t3 i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local.set $cob (i32.shl (local.get $co) (i32.const 2)))
    (local.set $q (i32.const 0))
    (block $qdone
      (loop $qloop
        (br_if $qdone (i32.ge_u (local.get $q) (local.get $ci)))
        (local.set $o (i32.const 0))
        (block $odone
          (loop $oloop
            (br_if $odone (i32.ge_u (local.get $o) (local.get $co)))
            ;; tile rows q..q+3 of dw, columns o..o+7
            (local.set $t0
              (i32.add (local.get $dw)
                (i32.shl (i32.add (i32.mul (local.get $q) (local.get $co)) (local.get $o)) (i32.const 2))))
            (local.set $t1 (i32.add (local.get $t0) (local.get $cob)))
            (local.set $t2 (i32.add (local.get $t1) (local.get $cob)))
            (local.set $t3 (i32.add (local.get $t2) (local.get $cob)))
            (local.set $a00 (v128.load (local.get $t0)))
            (local.set $a01 (v128.load offset=16 (local.get $t0)))
            (local.set $a10 (v128.load (local.get $t1)))
            (local.set $a11 (v128.load offset=16 (local.get $t1)))
            (local.set $a20 (v128.load (local.get $t2)))
            (local.set $a21 (v128.load offset=16 (local.get $t2)))
            (local.set $a30 (v128.load (local.get $t3)))
            (local.set $a31 (v128.load offset=16 (local.get $t3)))
            (local.set $px (i32.add (local.get $x) (i32.shl (local.get $q) (i32.const 2))))
            (local.set $pd (i32.add (local.get $dy) (i32.shl (local.get $o) (i32.const 2))))
            (local.set $n (local.get $count))
            (loop $pix
              (local.set $d0 (v128.load (local.get $pd)))
              (local.set $d1 (v128.load offset=16 (local.get $pd)))
              (local.set $s (v128.load32_splat (local.get $px)))
              (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat offset=4 (local.get $px)))
              (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat offset=8 (local.get $px)))
              (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat offset=12 (local.get $px)))
              (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $px (i32.add (local.get $px) (local.get $xStep)))
              (local.set $pd (i32.add (local.get $pd) (local.get $cob)))
              (local.set $n (i32.sub (local.get $n) (i32.const 1)))
              (br_if $pix (local.get $n)))
            (v128.store (local.get $t0) (local.get $a00))
            (v128.store offset=16 (local.get $t0) (local.get $a01))
            (v128.store (local.get $t1) (local.get $a10))
            (v128.store offset=16 (local.get $t1) (local.get $a11))
            (v128.store (local.get $t2) (local.get $a20))
            (v128.store offset=16 (local.get $t2) (local.get $a21))
            (v128.store (local.get $t3) (local.get $a30))
            (v128.store offset=16 (local.get $t3) (local.get $a31))
            (local.set $o (i32.add (local.get $o) (i32.const 8)))
            (br $oloop)))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (br $qloop))))
  ;; Column sums of a [rows, cols] float32 matrix, cols a multiple of 4, in ONE pass down the rows: blocks of
  ;; 16 rows are summed per 4 columns in float32 registers (the block stays in L1), and each block's sums are
  ;; added to float64 accumulators in `acc` (cols float64 = 8*cols bytes of scratch). out[c] = scale * sum.
  (func (export "sumColumns")
    (param $x i32) (param $out i32) (param $acc i32) (param $rows i32) (param $cols i32) (param $scale f64)
    (local $stride i32) (local $r i32) (local $blockEnd i32) (local $c i32) (local $p i32) (local $q i32)
    (local $v v128) (local $a i32) (local $cb i32)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $cb (local.get $stride))
    ;; acc = 0
    (local.set $c (i32.const 0))
    (block $zdone
      (loop $z
        (br_if $zdone (i32.ge_u (local.get $c) (local.get $cols)))
        (v128.store (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))) (f64x2.splat (f64.const 0)))
        (local.set $c (i32.add (local.get $c) (i32.const 2)))
        (br $z)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $blockEnd (i32.add (local.get $r) (i32.const 16)))
        (if (i32.gt_u (local.get $blockEnd) (local.get $rows)) (then (local.set $blockEnd (local.get $rows))))
        (local.set $c (i32.const 0))
        (block $cdone
          (loop $cloop
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $cb)))
            ;; sum rows r..blockEnd-1 of columns c/4 .. c/4+3 (c in bytes here)
            (local.set $v (f32x4.splat (f32.const 0)))
            (local.set $p (i32.add (i32.add (local.get $x) (i32.mul (local.get $r) (local.get $stride))) (local.get $c)))
            (local.set $q (i32.add (i32.add (local.get $x) (i32.mul (local.get $blockEnd) (local.get $stride))) (local.get $c)))
            (loop $inner
              (local.set $v (f32x4.add (local.get $v) (v128.load (local.get $p))))
              (local.set $p (i32.add (local.get $p) (local.get $stride)))
              (br_if $inner (i32.lt_u (local.get $p) (local.get $q))))
            ;; acc[c/4 ..] += promote(v): float64 slots at acc + 2*c bytes
            (local.set $a (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 1))))
            (v128.store (local.get $a)
              (f64x2.add (v128.load (local.get $a)) (f64x2.promote_low_f32x4 (local.get $v))))
            (v128.store offset=16 (local.get $a)
              (f64x2.add (v128.load offset=16 (local.get $a))
                (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cloop)))
        (local.set $r (local.get $blockEnd))
        (br $rloop)))
    ;; out = scale * acc, as float32
    (local.set $c (i32.const 0))
    (block $odone
      (loop $o
        (br_if $odone (i32.ge_u (local.get $c) (local.get $cols)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2)))
          (f32.demote_f64
            (f64.mul (f64.load (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3)))) (local.get $scale))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $o))))

  ;; Two per-column sums of [rows, cols] float32 matrices a and b (cols a multiple of 4) in ONE pass:
  ;; s1[c] = sum of (a - sa[c]) and s2[c] = sum of (a - sa[c]) * (b - sb[c]) over rows, written as float64 to
  ;; acc[0 .. cols) and acc[cols .. 2*cols). Batch norm's statistics (a = b = x and sa = sb = a shift near the
  ;; mean, which keeps the squares free of cancellation) and its gradient's sums (a = dy, sa = 0, b = x,
  ;; sb = mean). Blocks of 16 rows are summed in float32 registers, each block's sums added in float64.
  (func (export "pairSumsColumns")
    (param $a i32) (param $b i32) (param $sa i32) (param $sb i32) (param $acc i32) (param $rows i32)
    (param $cols i32)
    (local $stride i32) (local $r i32) (local $blockEnd i32) (local $c i32) (local $p i32) (local $q i32)
    (local $off i32) (local $v1 v128) (local $v2 v128) (local $d v128) (local $e v128) (local $ca v128)
    (local $cb v128) (local $t i32) (local $acc2 i32)
    (local.set $stride (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $off (i32.sub (local.get $b) (local.get $a)))
    (local.set $acc2 (i32.add (local.get $acc) (i32.shl (local.get $cols) (i32.const 3))))
    ;; acc = 0 (both halves)
    (local.set $c (i32.const 0))
    (block $zdone
      (loop $z
        (br_if $zdone (i32.ge_u (local.get $c) (i32.shl (local.get $cols) (i32.const 1))))
        (v128.store (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 3))) (f64x2.splat (f64.const 0)))
        (local.set $c (i32.add (local.get $c) (i32.const 2)))
        (br $z)))
    (block $rdone
      (loop $rloop
        (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $blockEnd (i32.add (local.get $r) (i32.const 16)))
        (if (i32.gt_u (local.get $blockEnd) (local.get $rows)) (then (local.set $blockEnd (local.get $rows))))
        (local.set $c (i32.const 0))
        (block $cdone
          (loop $cloop
            (br_if $cdone (i32.ge_u (local.get $c) (local.get $stride)))
            (local.set $ca (v128.load (i32.add (local.get $sa) (local.get $c))))
            (local.set $cb (v128.load (i32.add (local.get $sb) (local.get $c))))
            (local.set $v1 (f32x4.splat (f32.const 0)))
            (local.set $v2 (f32x4.splat (f32.const 0)))
            (local.set $p (i32.add (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $stride))) (local.get $c)))
            (local.set $q (i32.add (i32.add (local.get $a) (i32.mul (local.get $blockEnd) (local.get $stride))) (local.get $c)))
            (loop $inner
              (local.set $d (f32x4.sub (v128.load (local.get $p)) (local.get $ca)))
              (local.set $e (f32x4.sub (v128.load (i32.add (local.get $p) (local.get $off))) (local.get $cb)))
              (local.set $v1 (f32x4.add (local.get $v1) (local.get $d)))
              (local.set $v2 (f32x4.add (f32x4.mul (local.get $d) (local.get $e)) (local.get $v2)))
              (local.set $p (i32.add (local.get $p) (local.get $stride)))
              (br_if $inner (i32.lt_u (local.get $p) (local.get $q))))
            ;; acc[c/4 ..] += promote(v1), acc2[c/4 ..] += promote(v2): float64 slots at 2*c bytes
            (local.set $t (i32.add (local.get $acc) (i32.shl (local.get $c) (i32.const 1))))
            (v128.store (local.get $t)
              (f64x2.add (v128.load (local.get $t)) (f64x2.promote_low_f32x4 (local.get $v1))))
            (v128.store offset=16 (local.get $t)
              (f64x2.add (v128.load offset=16 (local.get $t))
                (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v1) (local.get $v1)))))
            (local.set $t (i32.add (local.get $acc2) (i32.shl (local.get $c) (i32.const 1))))
            (v128.store (local.get $t)
              (f64x2.add (v128.load (local.get $t)) (f64x2.promote_low_f32x4 (local.get $v2))))
            (v128.store offset=16 (local.get $t)
              (f64x2.add (v128.load offset=16 (local.get $t))
                (f64x2.promote_low_f32x4
                  (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v2) (local.get $v2)))))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $cloop)))
        (local.set $r (local.get $blockEnd))
        (br $rloop))))

  ;; dx[r, c] = dy[r, c] * a[c] + x[r, c] * k[c] + b[c] for [rows, cols] matrices (cols a multiple of 4): batch
  ;; norm's input gradient in one pass once its per-channel coefficients are folded.
  (func (export "affinePairColumns")
    (param $dy i32) (param $x i32) (param $a i32) (param $k i32) (param $b i32) (param $dx i32) (param $rows i32)
    (param $cols i32)
    (local $p i32) (local $end i32) (local $c i32) (local $cb i32) (local $offx i32) (local $offd i32)
    (local $t i32)
    (local.set $cb (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $end (i32.add (local.get $dy) (i32.mul (local.get $rows) (local.get $cb))))
    (local.set $offx (i32.sub (local.get $x) (local.get $dy)))
    (local.set $offd (i32.sub (local.get $dx) (local.get $dy)))
    (local.set $p (local.get $dy))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $col
          (local.set $t (i32.add (local.get $p) (local.get $c)))
          (v128.store (i32.add (local.get $t) (local.get $offd))
            (f32x4.add
              (f32x4.add
                (f32x4.mul (v128.load (local.get $t)) (v128.load (i32.add (local.get $a) (local.get $c))))
                (f32x4.mul (v128.load (i32.add (local.get $t) (local.get $offx)))
                  (v128.load (i32.add (local.get $k) (local.get $c)))))
              (v128.load (i32.add (local.get $b) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $col (i32.lt_u (local.get $c) (local.get $cb))))
        (local.set $p (i32.add (local.get $p) (local.get $cb)))
        (br $row))))

  ;; Per-channel affine map y = x * a[c] + b[c] of a [rows, cols] matrix (cols a multiple of 4): batch norm's
  ;; forward in one pass once its scale and shift are folded per channel.
  (func (export "affineColumns")
    (param $x i32) (param $a i32) (param $b i32) (param $y i32) (param $rows i32) (param $cols i32)
    (local $p i32) (local $end i32) (local $c i32) (local $cb i32) (local $off i32)
    (local.set $cb (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $cb))))
    (local.set $off (i32.sub (local.get $y) (local.get $x)))
    (local.set $p (local.get $x))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $col
          (v128.store (i32.add (i32.add (local.get $p) (local.get $c)) (local.get $off))
            (f32x4.add
              (f32x4.mul (v128.load (i32.add (local.get $p) (local.get $c)))
                (v128.load (i32.add (local.get $a) (local.get $c))))
              (v128.load (i32.add (local.get $b) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $col (i32.lt_u (local.get $c) (local.get $cb))))
        (local.set $p (i32.add (local.get $p) (local.get $cb)))
        (br $row))))

  ;; dx = k * x * dy element by element (Square's gradient with k = 2), any n.
  (func (export "scaledProduct") (param $dy i32) (param $x i32) (param $dx i32) (param $n i32) (param $k f32)
    (local $i i32) (local $end4 i32) (local $kv v128)
    (local.set $end4 (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $kv (f32x4.splat (local.get $k)))
    (block $vdone
      (loop $v
        (br_if $vdone (i32.ge_u (local.get $i) (local.get $end4)))
        (v128.store (i32.add (local.get $dx) (local.get $i))
          (f32x4.mul
            (v128.load (i32.add (local.get $dy) (local.get $i)))
            (f32x4.mul (v128.load (i32.add (local.get $x) (local.get $i))) (local.get $kv))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $v)))
    (local.set $end4 (i32.shl (local.get $n) (i32.const 2)))
    (block $sdone
      (loop $s
        (br_if $sdone (i32.ge_u (local.get $i) (local.get $end4)))
        (f32.store (i32.add (local.get $dx) (local.get $i))
          (f32.mul (f32.load (i32.add (local.get $dy) (local.get $i)))
            (f32.mul (f32.load (i32.add (local.get $x) (local.get $i))) (local.get $k))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $s))))
  ;; Per-channel bias y = x + b[c] of a [rows, cols] matrix (cols a multiple of 4): a convolution's bias add
  ;; (tfjs adds it as a separate broadcasting Add while a ReLU follows in training).
  (func (export "addColumns")
    (param $x i32) (param $b i32) (param $y i32) (param $rows i32) (param $cols i32)
    (local $p i32) (local $end i32) (local $c i32) (local $cb i32) (local $off i32)
    (local.set $cb (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $cb))))
    (local.set $off (i32.sub (local.get $y) (local.get $x)))
    (local.set $p (local.get $x))
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.const 0))
        (loop $col
          (v128.store (i32.add (i32.add (local.get $p) (local.get $c)) (local.get $off))
            (f32x4.add (v128.load (i32.add (local.get $p) (local.get $c)))
              (v128.load (i32.add (local.get $b) (local.get $c)))))
          (local.set $c (i32.add (local.get $c) (i32.const 16)))
          (br_if $col (i32.lt_u (local.get $c) (local.get $cb))))
        (local.set $p (i32.add (local.get $p) (local.get $cb)))
        (br $row))))

  ;; Matrix product: c[i, j] = sum over p < k of A[i, p] * b[p, j] for i < m, j < n, where b and c are row-major
  ;; ([k, n] and [m, n]) and A's element (i, p) is at byte a + i*sam + p*sak, so a transposed A (a dense layer's
  ;; weight gradient x^T dy) needs no copy. m a multiple of 4, n a multiple of 8, k >= 1. `scr` is scratch of
  ;; (m + 8) * k floats. A is packed once into [m/4][k][4] (each tile's k steps one contiguous stream, whatever
  ;; its layout), and each 8-column strip of b into [k][8] (k * 32 bytes, in L1 while every row tile passes over
  ;; it; unpacked, each row of the strip sat on its own cache line and a strip of 784 rows overflowed L1). Tiles
  ;; of 4 rows x 8 columns of c live in eight registers while k streams through. Packing costs (m + n) * k
  ;; copies against m * n * k multiply-adds.
  (func (export "gemm")
    (param $a i32) (param $b i32) (param $c i32) (param $m i32) (param $n i32) (param $k i32)
    (param $sam i32) (param $sak i32) (param $scr i32)
    (local $nb i32) (local $i i32) (local $j i32) (local $pa i32) (local $pb i32) (local $bs i32) (local $cnt i32)
    (local $t0 i32) (local $src i32) (local $sam2 i32) (local $sam3 i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local.set $nb (i32.shl (local.get $n) (i32.const 2)))
    (local.set $sam2 (i32.shl (local.get $sam) (i32.const 1)))
    (local.set $sam3 (i32.add (local.get $sam2) (local.get $sam)))
    ;; pack A into [m/4][k][4]: a transposed A (sam = 4) by whole vectors
    (local.set $pa (local.get $scr))
    (local.set $i (i32.const 0))
    (block $pad (loop $pal
      (br_if $pad (i32.ge_u (local.get $i) (local.get $m)))
      (local.set $src (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sam))))
      (local.set $cnt (local.get $k))
      (if (i32.eq (local.get $sam) (i32.const 4))
        (then (loop $pl
          (v128.store (local.get $pa) (v128.load (local.get $src)))
          (local.set $src (i32.add (local.get $src) (local.get $sak)))
          (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
          (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
          (br_if $pl (local.get $cnt))))
        (else (loop $pl2
          (f32.store (local.get $pa) (f32.load (local.get $src)))
          (f32.store offset=4 (local.get $pa) (f32.load (i32.add (local.get $src) (local.get $sam))))
          (f32.store offset=8 (local.get $pa) (f32.load (i32.add (local.get $src) (local.get $sam2))))
          (f32.store offset=12 (local.get $pa) (f32.load (i32.add (local.get $src) (local.get $sam3))))
          (local.set $src (i32.add (local.get $src) (local.get $sak)))
          (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
          (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
          (br_if $pl2 (local.get $cnt)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $pal)))
    (local.set $bs (local.get $pa))
    (block $jdone
      (loop $jloop
        (br_if $jdone (i32.ge_u (local.get $j) (local.get $nb)))
        ;; pack the strip of b: columns j..j+7 of every row into [k][8]
        (local.set $src (i32.add (local.get $b) (local.get $j)))
        (local.set $pb (local.get $bs))
        (local.set $cnt (local.get $k))
        (loop $pbl
          (v128.store (local.get $pb) (v128.load (local.get $src)))
          (v128.store offset=16 (local.get $pb) (v128.load offset=16 (local.get $src)))
          (local.set $src (i32.add (local.get $src) (local.get $nb)))
          (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
          (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
          (br_if $pbl (local.get $cnt)))
        (local.set $i (i32.const 0))
        (local.set $pa (local.get $scr))
        (block $idone
          (loop $iloop
            (br_if $idone (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $a00 (v128.const i32x4 0 0 0 0))
            (local.set $a01 (v128.const i32x4 0 0 0 0))
            (local.set $a10 (v128.const i32x4 0 0 0 0))
            (local.set $a11 (v128.const i32x4 0 0 0 0))
            (local.set $a20 (v128.const i32x4 0 0 0 0))
            (local.set $a21 (v128.const i32x4 0 0 0 0))
            (local.set $a30 (v128.const i32x4 0 0 0 0))
            (local.set $a31 (v128.const i32x4 0 0 0 0))
            (local.set $pb (local.get $bs))
            (local.set $cnt (local.get $k))
            (loop $kloop
              (local.set $d0 (v128.load (local.get $pb)))
              (local.set $d1 (v128.load offset=16 (local.get $pb)))
              (local.set $s (v128.load32_splat (local.get $pa)))
              (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat offset=4 (local.get $pa)))
              (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat offset=8 (local.get $pa)))
              (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat offset=12 (local.get $pa)))
              (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $pa (i32.add (local.get $pa) (i32.const 16)))
              (local.set $pb (i32.add (local.get $pb) (i32.const 32)))
              (local.set $cnt (i32.sub (local.get $cnt) (i32.const 1)))
              (br_if $kloop (local.get $cnt)))
            (local.set $t0
              (i32.add (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $nb))) (local.get $j)))
            (v128.store (local.get $t0) (local.get $a00))
            (v128.store offset=16 (local.get $t0) (local.get $a01))
            (local.set $t0 (i32.add (local.get $t0) (local.get $nb)))
            (v128.store (local.get $t0) (local.get $a10))
            (v128.store offset=16 (local.get $t0) (local.get $a11))
            (local.set $t0 (i32.add (local.get $t0) (local.get $nb)))
            (v128.store (local.get $t0) (local.get $a20))
            (v128.store offset=16 (local.get $t0) (local.get $a21))
            (local.set $t0 (i32.add (local.get $t0) (local.get $nb)))
            (v128.store (local.get $t0) (local.get $a30))
            (v128.store offset=16 (local.get $t0) (local.get $a31))
            (local.set $i (i32.add (local.get $i) (i32.const 4)))
            (br $iloop)))
        (local.set $j (i32.add (local.get $j) (i32.const 32)))
        (br $jloop))))


  ;; One Adam step over n float32 weights: m1 = b1*m0 + a1*g, v1 = b2*v0 + a2*g*g (in float32 as tfjs computes
  ;; them), w1 = w0 - m1 * (lr/c1) / (sqrt(v1 * (1/c2)) + eps), which is tfjs's (m1/c1 * lr) / (sqrt(v1/c2) + eps)
  ;; within a few float32 roundings, with one division per weight instead of three. Any n (a scalar tail).
  (func (export "adamStep")
    (param $g i32) (param $m0 i32) (param $v0 i32) (param $w0 i32) (param $m1 i32) (param $v1 i32)
    (param $w1 i32) (param $n i32) (param $b1 f32) (param $b2 f32) (param $a1 f32) (param $a2 f32)
    (param $c1 f32) (param $c2 f32) (param $lr f32) (param $eps f32)
    (local $i i32) (local $end i32) (local $gv v128) (local $mv v128) (local $vv v128)
    (local $sm f32) (local $sv f32) (local $sg f32) (local $step v128) (local $r2 v128) (local $epsv v128)
    (local.set $step (f32x4.splat (f32.div (local.get $lr) (local.get $c1))))
    (local.set $r2 (f32x4.splat (f32.div (f32.const 1) (local.get $c2))))
    (local.set $epsv (f32x4.splat (local.get $eps)))
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (block $vdone
      (loop $v
        (br_if $vdone (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gv (v128.load (i32.add (local.get $g) (local.get $i))))
        (local.set $mv
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $m0) (local.get $i))) (f32x4.splat (local.get $b1)))
            (f32x4.mul (local.get $gv) (f32x4.splat (local.get $a1)))))
        (local.set $vv
          (f32x4.add
            (f32x4.mul (v128.load (i32.add (local.get $v0) (local.get $i))) (f32x4.splat (local.get $b2)))
            (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (f32x4.splat (local.get $a2)))))
        (v128.store (i32.add (local.get $m1) (local.get $i)) (local.get $mv))
        (v128.store (i32.add (local.get $v1) (local.get $i)) (local.get $vv))
        (v128.store (i32.add (local.get $w1) (local.get $i))
          (f32x4.sub (v128.load (i32.add (local.get $w0) (local.get $i)))
            (f32x4.div (f32x4.mul (local.get $mv) (local.get $step))
              (f32x4.add (f32x4.sqrt (f32x4.mul (local.get $vv) (local.get $r2))) (local.get $epsv)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $v)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $sdone
      (loop $s
        (br_if $sdone (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $sg (f32.load (i32.add (local.get $g) (local.get $i))))
        (local.set $sm
          (f32.add (f32.mul (f32.load (i32.add (local.get $m0) (local.get $i))) (local.get $b1))
            (f32.mul (local.get $sg) (local.get $a1))))
        (local.set $sv
          (f32.add (f32.mul (f32.load (i32.add (local.get $v0) (local.get $i))) (local.get $b2))
            (f32.mul (f32.mul (local.get $sg) (local.get $sg)) (local.get $a2))))
        (f32.store (i32.add (local.get $m1) (local.get $i)) (local.get $sm))
        (f32.store (i32.add (local.get $v1) (local.get $i)) (local.get $sv))
        (f32.store (i32.add (local.get $w1) (local.get $i))
          (f32.sub (f32.load (i32.add (local.get $w0) (local.get $i)))
            (f32.div (f32.mul (local.get $sm) (f32x4.extract_lane 0 (local.get $step)))
              (f32.add (f32.sqrt (f32.mul (local.get $sv) (f32x4.extract_lane 0 (local.get $r2))))
                (local.get $eps)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $s))))
)
