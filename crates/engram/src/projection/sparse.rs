//! Sparse projection: compressed rows (CSR) by presynaptic neuron, `u16` column indices, and the
//! builders that generate random connectivity.

use core::ops::Range;

use super::dense::check_side;
use super::{Pending, SpikeProjection, Static, SynapseHook, deliver_acc};
use crate::error::{ConfigError, check_len};
use crate::num::{Fix, Frac, Rng, Scale, Weight};

/// The connectivity of a sparse projection, validated: which postsynaptic neurons each presynaptic
/// neuron reaches.
///
/// **Layout.** Row `i` (the outgoing synapses of presynaptic neuron `i`) is
/// `cols[row_start(i)..row_end[i]]`, with `row_start(0) = 0` and `row_start(i) = row_end[i - 1]`.
/// Storing the row *ends* (`n_pre` entries) instead of the usual `n_pre + 1` row pointers lets a
/// const-generic storage be `[u32; PRE]`: `[u32; PRE + 1]` would need the unstable
/// `generic_const_exprs`. The synapse at position `k` of `cols` has its weight at position `k` of the
/// projection's weight array.
///
/// **Invariants** (checked by [`Csr::new`]): at most 65 535 neurons per side; `row_end` is
/// non-decreasing and its last entry is `cols.len()` (the number of synapses, `nnz`); within a row the
/// columns are **strictly increasing** (sorted, no duplicate synapse) and `< n_post`. Sorted rows
/// make lookups a binary search and guarantee that one spike adds at most once to any accumulator
/// (the bound the overflow policy relies on, see the [module docs](super)).
///
/// The topology holds only shared references, so it can live in flash (`static` arrays) on a board
/// while the weights are in RAM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Csr<'a> {
    n_post: usize,
    row_end: &'a [u32],
    cols: &'a [u16],
}

impl<'a> Csr<'a> {
    /// Validates a CSR topology with `row_end.len()` presynaptic neurons and `n_post` postsynaptic ones.
    pub fn new(n_post: usize, row_end: &'a [u32], cols: &'a [u16]) -> Result<Self, ConfigError> {
        check_side("presynaptic size", row_end.len())?;
        check_side("postsynaptic size", n_post)?;
        let nnz = row_end.last().map_or(0, |&e| e as usize);
        check_len("CSR columns (last row end)", nnz, cols.len())?;
        let mut start = 0usize;
        for &end in row_end {
            let end = end as usize;
            if end < start {
                return Err(ConfigError::Invalid {
                    what: "CSR row ends must be non-decreasing",
                });
            }
            let row = cols.get(start..end).ok_or(ConfigError::Invalid {
                what: "CSR row end beyond the column array",
            })?;
            if row.last().is_some_and(|&c| c as usize >= n_post) {
                return Err(ConfigError::Invalid {
                    what: "CSR column index must be < n_post",
                });
            }
            if row.windows(2).any(|p| p[0] >= p[1]) {
                return Err(ConfigError::Invalid {
                    what: "CSR columns must be strictly increasing within a row",
                });
            }
            start = end;
        }
        Ok(Csr {
            n_post,
            row_end,
            cols,
        })
    }

    /// Number of presynaptic neurons (rows).
    #[inline]
    pub fn n_pre(&self) -> usize {
        self.row_end.len()
    }

    /// Number of postsynaptic neurons.
    #[inline]
    pub fn n_post(&self) -> usize {
        self.n_post
    }

    /// Number of synapses.
    #[inline]
    pub fn nnz(&self) -> usize {
        self.cols.len()
    }

    /// The row ends (see the type docs).
    #[inline]
    pub fn row_ends(&self) -> &'a [u32] {
        self.row_end
    }

    /// All column (postsynaptic) indices, row after row.
    #[inline]
    pub fn cols(&self) -> &'a [u16] {
        self.cols
    }

    /// Positions in `cols` (and in the weight array) of the synapses of presynaptic neuron `pre`.
    #[inline]
    pub fn row_range(&self, pre: usize) -> Option<Range<usize>> {
        let end = *self.row_end.get(pre)? as usize;
        let start = match pre.checked_sub(1) {
            Some(p) => *self.row_end.get(p)? as usize,
            None => 0,
        };
        Some(start..end)
    }

    /// The postsynaptic targets of `pre`, increasing.
    #[inline]
    pub fn row(&self, pre: usize) -> Option<&'a [u16]> {
        self.cols.get(self.row_range(pre)?)
    }

    /// Position of synapse `pre → post` in `cols` / the weights, if it exists (binary search).
    pub fn position(&self, pre: usize, post: usize) -> Option<usize> {
        let r = self.row_range(pre)?;
        let post = u16::try_from(post).ok()?;
        let k = self.cols.get(r.clone())?.binary_search(&post).ok()?;
        Some(r.start + k)
    }
}

/// The post→pre index of a [`Csr`]: for each postsynaptic neuron, its incoming synapses as
/// (presynaptic neuron, position in the weight array), sorted by presynaptic neuron. Needed by
/// learning rules that act on a postsynaptic spike (LTP in STDP); built once by [`Incoming::build`]
/// into caller storage (`col_end`: one `u32` per postsynaptic neuron; `pre`, `pos`: one `u16` and one
/// `u32` per synapse — 6 bytes per synapse on top of the forward index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incoming<'a> {
    col_end: &'a [u32],
    pre: &'a [u16],
    pos: &'a [u32],
}

impl<'a> Incoming<'a> {
    /// Builds the index of `csr` in two passes (count per column, then fill in row order, so each
    /// column's list comes out sorted by presynaptic neuron).
    pub fn build(
        csr: &Csr<'_>,
        col_end: &'a mut [u32],
        pre: &'a mut [u16],
        pos: &'a mut [u32],
    ) -> Result<Incoming<'a>, ConfigError> {
        check_len("incoming index column ends", csr.n_post(), col_end.len())?;
        check_len("incoming index presynaptic ids", csr.nnz(), pre.len())?;
        check_len("incoming index positions", csr.nnz(), pos.len())?;
        col_end.fill(0);
        for &c in csr.cols {
            if let Some(e) = col_end.get_mut(c as usize) {
                *e += 1;
            }
        }
        // exclusive prefix sum: col_end[j] = start of column j (becomes its end after filling)
        let mut run = 0u32;
        for e in col_end.iter_mut() {
            let n = *e;
            *e = run;
            run += n;
        }
        for i in 0..csr.n_pre() {
            let Some(r) = csr.row_range(i) else { continue };
            let start = r.start;
            for (off, &c) in csr.row(i).unwrap_or_default().iter().enumerate() {
                if let Some(e) = col_end.get_mut(c as usize) {
                    let slot = *e as usize;
                    if let (Some(p), Some(q)) = (pre.get_mut(slot), pos.get_mut(slot)) {
                        *p = i as u16; // i < 65 536 (Csr invariant)
                        *q = (start + off) as u32;
                    }
                    *e += 1;
                }
            }
        }
        Ok(Incoming { col_end, pre, pos })
    }

    /// The (presynaptic neuron, weight position) pairs of the synapses onto `post`.
    #[inline]
    pub fn column(&self, post: usize) -> Option<(&'a [u16], &'a [u32])> {
        let end = *self.col_end.get(post)? as usize;
        let start = match post.checked_sub(1) {
            Some(p) => *self.col_end.get(p)? as usize,
            None => 0,
        };
        Some((self.pre.get(start..end)?, self.pos.get(start..end)?))
    }
}

/// A sparse projection: a [`Csr`] topology with one raw [`Weight`] per synapse.
///
/// **Event path.** A spike of presynaptic neuron `i` walks its row: `acc[cols[k]] += w[k]`
/// (a scatter: per synapse a column load, a weight load, and a read-modify-write of the
/// accumulator). Cost is proportional to the synapses of the neurons that spiked, not to `n_pre`.
/// `deliver` converts each accumulator once ([`Scale::apply`]), adds it with saturation and zeroes it;
/// it returns at once if nothing was accumulated. Overflow policy: see the [module docs](super).
///
/// **Rate path.** [`Sparse::propagate_rates`] scatters exact `i64` products into a caller-provided
/// wide buffer (one `i64` per target), then converts once per target.
#[derive(Debug)]
pub struct Sparse<'a, W: Weight> {
    csr: Csr<'a>,
    w: &'a mut [W],
    acc: &'a mut [i32],
    scale: Scale,
    pending: Pending,
    incoming: Option<Incoming<'a>>,
}

impl<'a, W: Weight> Sparse<'a, W> {
    /// A sparse projection: `weights.len() == csr.nnz()`, `acc.len() == csr.n_post()`. The
    /// accumulators are zeroed here.
    pub fn new(
        csr: Csr<'a>,
        weights: &'a mut [W],
        acc: &'a mut [i32],
        scale: Scale,
    ) -> Result<Self, ConfigError> {
        check_len("sparse weights", csr.nnz(), weights.len())?;
        check_len("sparse accumulators", csr.n_post(), acc.len())?;
        acc.fill(0);
        Ok(Sparse {
            csr,
            w: weights,
            acc,
            scale,
            pending: Pending::default(),
            incoming: None,
        })
    }

    /// Attaches a post→pre index (built from this projection's topology), enabling learning rules
    /// that act on postsynaptic spikes. Refused if it was built for another topology's size.
    pub fn with_incoming(mut self, incoming: Incoming<'a>) -> Result<Self, ConfigError> {
        check_len(
            "incoming index columns",
            self.csr.n_post(),
            incoming.col_end.len(),
        )?;
        check_len(
            "incoming index synapses",
            self.csr.nnz(),
            incoming.pos.len(),
        )?;
        self.incoming = Some(incoming);
        Ok(self)
    }

    /// The topology.
    #[inline]
    pub fn csr(&self) -> Csr<'a> {
        self.csr
    }

    /// All raw weights, in the order of [`Csr::cols`].
    #[inline]
    pub fn weights(&self) -> &[W] {
        self.w
    }

    /// All raw weights, mutable.
    #[inline]
    pub fn weights_mut(&mut self) -> &mut [W] {
        self.w
    }

    /// The raw weight of synapse `pre → post`, or `None` if there is no such synapse.
    #[inline]
    pub fn weight(&self, pre: usize, post: usize) -> Option<W> {
        self.w.get(self.csr.position(pre, post)?).copied()
    }

    /// Number of presynaptic neurons.
    #[inline]
    pub fn n_pre(&self) -> usize {
        self.csr.n_pre()
    }

    /// Number of postsynaptic neurons.
    #[inline]
    pub fn n_post(&self) -> usize {
        self.csr.n_post()
    }

    /// Number of synapses.
    #[inline]
    pub fn nnz(&self) -> usize {
        self.csr.nnz()
    }

    /// The value of one weight step.
    #[inline]
    pub fn scale(&self) -> Scale {
        self.scale
    }

    /// The `i32` accumulators (raw weight sums awaiting `deliver`; all zero between steps), for
    /// hashing and inspection.
    #[inline]
    pub fn accumulators(&self) -> &[i32] {
        self.acc
    }

    /// [`SpikeProjection::accumulate`] with a per-synapse hook fused into the loop (see
    /// [`SynapseHook`]); `accumulate` is this with [`Static`].
    #[inline]
    pub fn accumulate_with<H: SynapseHook<W>>(&mut self, spikes: &[u16], hook: &mut H) {
        for &s in spikes {
            let i = s as usize;
            let Some(r) = self.csr.row_range(i) else {
                continue; // i ≥ n_pre
            };
            let base = r.start;
            let (Some(cols), Some(ws)) = (self.csr.cols.get(r.clone()), self.w.get_mut(r)) else {
                continue;
            };
            if self.pending.next::<W>() {
                scatter_row::<W, H, true>(self.acc, cols, ws, i, base, hook);
            } else {
                scatter_row::<W, H, false>(self.acc, cols, ws, i, base, hook);
            }
        }
    }

    /// Rate propagation: `target[j] += scale · Σ_i w_ij · x_i`.
    ///
    /// `wide` is scratch for the exact `i64` sums, one per postsynaptic neuron (CSR by presynaptic
    /// neuron scatters into arbitrary targets, so unlike [`Dense`](super::Dense) it cannot work in
    /// blocks on the stack); it is zeroed here, its contents on return are unspecified. Keeping it out of
    /// the projection means event-only projections (the common case) do not pay `8·n_post` bytes.
    /// Targets `≥ wide.len()` or `≥ target.len()` receive nothing; missing inputs count as 0. Each
    /// product `w·x` is summed exactly and converted once with [`Scale::apply_wide`] (nearest,
    /// saturating); the addition into `target` saturates. Zero inputs are skipped.
    pub fn propagate_rates(&mut self, x: &[Fix], wide: &mut [i64], target: &mut [Fix]) {
        let n = self.n_post().min(wide.len());
        let wide = &mut wide[..n];
        wide.fill(0);
        for (i, &xi) in x.iter().enumerate() {
            if xi == Fix::ZERO {
                continue;
            }
            let Some(r) = self.csr.row_range(i) else {
                break; // i ≥ n_pre
            };
            let (Some(cols), Some(ws)) = (self.csr.cols.get(r.clone()), self.w.get(r)) else {
                continue;
            };
            let xi = xi.to_bits() as i64;
            for (&c, w) in cols.iter().zip(ws) {
                if let Some(s) = wide.get_mut(c as usize) {
                    *s += w.get() as i64 * xi;
                }
            }
        }
        for (t, &s) in target.iter_mut().zip(wide.iter()) {
            *t = t.saturating_add(self.scale.apply_wide(s));
        }
    }
}

/// Adds one CSR row into the accumulators it names, calling `hook` per synapse.
#[inline(always)]
fn scatter_row<W: Weight, H: SynapseHook<W>, const SAT: bool>(
    acc: &mut [i32],
    cols: &[u16],
    ws: &mut [W],
    pre: usize,
    base: usize,
    hook: &mut H,
) {
    for (k, (&c, w)) in cols.iter().zip(ws.iter_mut()).enumerate() {
        // c < n_post == acc.len() (validated); `get_mut` keeps the loop panic-free regardless.
        if let Some(a) = acc.get_mut(c as usize) {
            *a = if SAT {
                a.saturating_add(w.get())
            } else {
                a.wrapping_add(w.get())
            };
        }
        hook.synapse(pre, c as usize, base + k, w);
    }
}

impl<W: Weight> super::Synapses<W> for Sparse<'_, W> {
    #[inline]
    fn n_synapses(&self) -> usize {
        self.w.len()
    }

    #[inline]
    fn accumulate_with<H: SynapseHook<W>>(&mut self, spikes: &[u16], hook: &mut H) {
        Sparse::accumulate_with(self, spikes, hook);
    }

    #[inline]
    fn has_incoming(&self) -> bool {
        self.incoming.is_some()
    }

    fn for_each_incoming(&mut self, post: usize, mut f: impl FnMut(usize, usize, &mut W)) {
        let Some((pres, poss)) = self.incoming.as_ref().and_then(|t| t.column(post)) else {
            return;
        };
        for (&i, &k) in pres.iter().zip(poss) {
            if let Some(w) = self.w.get_mut(k as usize) {
                f(i as usize, k as usize, w);
            }
        }
    }

    fn for_each(&mut self, mut f: impl FnMut(usize, usize, usize, &mut W)) {
        let mut start = 0usize;
        for (i, &end) in self.csr.row_end.iter().enumerate() {
            let r = start..end as usize;
            start = end as usize;
            let (Some(cols), Some(ws)) = (self.csr.cols.get(r.clone()), self.w.get_mut(r.clone()))
            else {
                continue;
            };
            for (off, (&c, w)) in cols.iter().zip(ws.iter_mut()).enumerate() {
                f(i, c as usize, r.start + off, w);
            }
        }
    }
}

impl<W: Weight> SpikeProjection for Sparse<'_, W> {
    #[inline]
    fn n_pre(&self) -> usize {
        self.csr.n_pre()
    }

    #[inline]
    fn n_post(&self) -> usize {
        self.csr.n_post()
    }

    #[inline]
    fn accumulate(&mut self, spikes: &[u16]) {
        self.accumulate_with(spikes, &mut Static);
    }

    #[inline]
    fn deliver(&mut self, target: &mut [Fix]) {
        if self.pending.is_empty() {
            return;
        }
        deliver_acc(self.acc, self.scale, target);
        self.pending = Pending::default();
    }

    /// Accumulates, then delivers only the accumulators the rows of `spikes` touched (when nothing was
    /// pending before and those rows hold fewer synapses than there are targets; otherwise the plain
    /// [`deliver`](SpikeProjection::deliver)). Every other accumulator is zero and would add nothing,
    /// so the result is the same as `accumulate` then `deliver`, at a cost proportional to the
    /// synaptic events instead of `n_post`.
    #[inline]
    fn propagate(&mut self, spikes: &[u16], target: &mut [Fix]) {
        let fresh = self.pending.is_empty();
        self.accumulate(spikes);
        if !fresh || self.pending.is_empty() {
            self.deliver(target);
            return;
        }
        let mut events = 0usize;
        for &s in spikes {
            events += self.csr.row_range(s as usize).map_or(0, |r| r.len());
        }
        if events >= self.n_post() {
            self.deliver(target);
            return;
        }
        for &s in spikes {
            for &c in self.csr.row(s as usize).unwrap_or_default() {
                // A target seen twice (two spiking rows share it) finds its accumulator zeroed and
                // adds nothing the second time.
                if let Some(a) = self.acc.get_mut(c as usize) {
                    let raw = core::mem::take(a);
                    if let Some(t) = target.get_mut(c as usize) {
                        *t = t.saturating_add(self.scale.apply(raw));
                    }
                }
            }
        }
        self.pending = Pending::default();
    }
}

fn capacity(cols: &[u16]) -> ConfigError {
    ConfigError::CapacityExceeded {
        what: "sparse columns",
        capacity: cols.len(),
    }
}

/// Random connectivity: each pair `(i, j)` is connected independently with probability `p`
/// (Erdős–Rényi / NEST `pairwise_bernoulli`). Fills `row_end` (length `n_pre`) and the first `nnz`
/// entries of `cols` as a valid [`Csr`], and returns `nnz` (binomial, mean `p · pairs`).
///
/// With `allow_autapses = false`, the pairs `i → i` are never connected (for a population projecting
/// onto itself). Fails with [`ConfigError::CapacityExceeded`] if `cols` is too small (size it e.g. to
/// the mean plus 5 standard deviations, or to `n_pre · n_post`).
///
/// **Algorithm.** Geometric skipping (Batagelj & Brandes 2005): instead of one draw per pair, the gap
/// to the next connection in a row is drawn as `⌊ln U / ln(1 - p)⌋` with `U` uniform in `(0, 1]` from
/// one `u32`, which is exactly the distribution of the number of failures before a success. Cost:
/// about `nnz + n_pre` draws and logarithms instead of `n_pre · n_post` draws. The logarithm is
/// `libm::log` in `f64` (configuration time, not the step path): pure software, so the connectivity
/// is the same on every target for the same seed and `p`.
pub fn fixed_probability(
    n_pre: usize,
    n_post: usize,
    p: Frac,
    allow_autapses: bool,
    rng: &mut Rng,
    row_end: &mut [u32],
    cols: &mut [u16],
) -> Result<usize, ConfigError> {
    check_side("presynaptic size", n_pre)?;
    check_side("postsynaptic size", n_post)?;
    check_len("CSR row ends", n_pre, row_end.len())?;
    const TWO32: f64 = 4_294_967_296.0;
    // 1 - p ≥ 2^-32: the logarithm is finite and negative for p > 0.
    let ln_q = libm::log(1.0 - p.0 as f64 / TWO32);
    let mut nnz = 0usize;
    for (i, end) in row_end.iter_mut().enumerate() {
        if p.0 != 0 {
            let mut j = 0usize; // next candidate column
            loop {
                let u = (rng.next_u32() as f64 + 1.0) / TWO32; // (0, 1]
                // ≥ 0; `as` saturates, so a huge gap simply ends the row.
                let gap = (libm::log(u) / ln_q) as usize;
                j = j.saturating_add(gap);
                if j >= n_post {
                    break;
                }
                if allow_autapses || j != i {
                    match cols.get_mut(nnz) {
                        Some(c) => *c = j as u16,
                        None => return Err(capacity(cols)),
                    }
                    nnz += 1;
                }
                j += 1;
            }
        }
        // nnz ≤ 65 535² < 2^32
        *end = nnz as u32;
    }
    Ok(nnz)
}

/// Random connectivity with a fixed in-degree: every postsynaptic neuron receives exactly `k`
/// synapses from distinct presynaptic neurons chosen uniformly (NEST `fixed_indegree` without
/// multapses). Fills `row_end` (length `n_pre`) and the first `k · n_post` entries of `cols`; returns
/// `nnz = k · n_post`.
///
/// With `allow_autapses = false`, post `j` never receives from pre `j`. Fails if `k` exceeds the
/// number of candidates (`n_pre`, or `n_pre - 1` without autapses) or `cols` is too small.
///
/// **Algorithm.** Selection sampling (Knuth's algorithm S) per postsynaptic neuron, run twice from the
/// same generator state: the first pass counts each row's length (stored in `row_end`, then turned
/// into row starts by a prefix sum), the second writes each chosen pair at its row's cursor. Posts are
/// visited in increasing order, so rows come out sorted, and no scratch memory is needed. Cost:
/// `2 · n_pre · n_post` draws at most (configuration time). `rng` ends as after one pass.
pub fn fixed_indegree(
    n_pre: usize,
    n_post: usize,
    k: usize,
    allow_autapses: bool,
    rng: &mut Rng,
    row_end: &mut [u32],
    cols: &mut [u16],
) -> Result<usize, ConfigError> {
    check_side("presynaptic size", n_pre)?;
    check_side("postsynaptic size", n_post)?;
    check_len("CSR row ends", n_pre, row_end.len())?;
    // Post 0 has the fewest candidates: n_pre - 1 without autapses (if it is also a pre), else n_pre.
    let fewest = n_pre - usize::from(!allow_autapses && n_pre > 0);
    if n_post > 0 && k > fewest {
        return Err(ConfigError::Invalid {
            what: "in-degree larger than the number of candidate presynaptic neurons",
        });
    }
    let nnz = k * n_post; // ≤ 65 535²
    if cols.len() < nnz {
        return Err(capacity(cols));
    }
    // Pass 1: row lengths.
    row_end.fill(0);
    let mut counting = rng.clone();
    for j in 0..n_post {
        select(&mut counting, n_pre, j, k, allow_autapses, |i| {
            if let Some(c) = row_end.get_mut(i) {
                *c += 1;
            }
        });
    }
    // Row starts.
    let mut start = 0u32;
    for e in row_end.iter_mut() {
        let len = *e;
        *e = start;
        start += len;
    }
    // Pass 2: fill; each row's cursor ends at its row end.
    for j in 0..n_post {
        select(rng, n_pre, j, k, allow_autapses, |i| {
            if let Some(cursor) = row_end.get_mut(i) {
                if let Some(slot) = cols.get_mut(*cursor as usize) {
                    *slot = j as u16;
                }
                *cursor += 1;
            }
        });
    }
    Ok(nnz)
}

/// Chooses `k` distinct presynaptic neurons for post `j` uniformly (algorithm S), in increasing order.
fn select(
    rng: &mut Rng,
    n_pre: usize,
    j: usize,
    k: usize,
    allow_autapses: bool,
    mut f: impl FnMut(usize),
) {
    let excluded = !allow_autapses && j < n_pre;
    let mut left = n_pre - usize::from(excluded); // candidates not yet visited
    let mut need = k;
    for i in 0..n_pre {
        if need == 0 {
            break;
        }
        if excluded && i == j {
            continue;
        }
        if (rng.below(left as u32) as usize) < need {
            f(i);
            need -= 1;
        }
        left -= 1;
    }
}

/// One-to-one connectivity: pre `i` → post `i` for `i < n` (`row_end.len() == n`, `cols.len() ≥ n`).
/// Returns `nnz = n`.
pub fn one_to_one(n: usize, row_end: &mut [u32], cols: &mut [u16]) -> Result<usize, ConfigError> {
    check_side("one-to-one size", n)?;
    check_len("CSR row ends", n, row_end.len())?;
    if cols.len() < n {
        return Err(capacity(cols));
    }
    for (i, (e, c)) in row_end.iter_mut().zip(cols.iter_mut()).enumerate() {
        *e = i as u32 + 1;
        *c = i as u16;
    }
    Ok(n)
}

/// Storage for a [`Sparse`] projection with sizes known at compile time: `PRE` rows, room for `NNZ`
/// synapses, `POST` targets. `size_of` is its exact RAM: `4·PRE + (2 + size_of::<W>())·NNZ + 4·POST`.
///
/// `NNZ` is a capacity: the projection uses the first `row_end[PRE - 1]` synapses. Fill the topology
/// with [`SparseStorage::fixed_probability`] (or by hand), set the weights, then take
/// [`SparseStorage::projection`].
#[derive(Debug, Clone, PartialEq)]
pub struct SparseStorage<W: Weight, const PRE: usize, const NNZ: usize, const POST: usize> {
    /// Row ends (see [`Csr`]).
    pub row_end: [u32; PRE],
    /// Column indices.
    pub cols: [u16; NNZ],
    /// Raw weights.
    pub w: [W; NNZ],
    /// Accumulators.
    pub acc: [i32; POST],
}

macro_rules! sparse_storage_new {
    ($($t:ty),*) => {$(
        impl<const PRE: usize, const NNZ: usize, const POST: usize> SparseStorage<$t, PRE, NNZ, POST> {
            /// Storage with no synapses (all rows empty).
            pub const fn new() -> Self {
                let () = Self::SIZE_OK;
                SparseStorage { row_end: [0; PRE], cols: [0; NNZ], w: [0; NNZ], acc: [0; POST] }
            }
        }

        impl<const PRE: usize, const NNZ: usize, const POST: usize> Default
            for SparseStorage<$t, PRE, NNZ, POST>
        {
            fn default() -> Self {
                Self::new()
            }
        }
    )*};
}
sparse_storage_new!(i8, i16);

impl<W: Weight, const PRE: usize, const NNZ: usize, const POST: usize>
    SparseStorage<W, PRE, NNZ, POST>
{
    const SIZE_OK: () = assert!(
        PRE <= super::MAX_SIDE && POST <= super::MAX_SIDE,
        "projection side too large for u16 indices"
    );

    /// Fills the topology with [`fixed_probability`]; returns the number of synapses.
    pub fn fixed_probability(
        &mut self,
        p: Frac,
        allow_autapses: bool,
        rng: &mut Rng,
    ) -> Result<usize, ConfigError> {
        fixed_probability(
            PRE,
            POST,
            p,
            allow_autapses,
            rng,
            &mut self.row_end,
            &mut self.cols,
        )
    }

    /// The projection on this storage (validates the topology; zeroes the accumulators).
    pub fn projection(&mut self, scale: Scale) -> Result<Sparse<'_, W>, ConfigError> {
        let () = Self::SIZE_OK;
        let nnz = self.row_end.last().map_or(0, |&e| e as usize);
        let (Some(cols), Some(w)) = (self.cols.get(..nnz), self.w.get_mut(..nnz)) else {
            return Err(ConfigError::CapacityExceeded {
                what: "sparse storage (last row end > NNZ)",
                capacity: NNZ,
            });
        };
        let csr = Csr::new(POST, &self.row_end, cols)?;
        Sparse::new(csr, w, &mut self.acc, scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::testutil::*;

    /// A random valid CSR as vectors.
    fn random_csr(rng: &mut Rng, n_pre: usize, n_post: usize, p: f32) -> (Vec<u32>, Vec<u16>) {
        let mut row_end = vec![0u32; n_pre];
        let mut cols = vec![0u16; n_pre * n_post];
        let p = Frac::from_f32("p", p).unwrap();
        let nnz = fixed_probability(n_pre, n_post, p, true, rng, &mut row_end, &mut cols).unwrap();
        cols.truncate(nnz);
        (row_end, cols)
    }

    /// Dense expansion of a CSR.
    fn to_dense(n_post: usize, row_end: &[u32], cols: &[u16], w: &[i16]) -> Vec<Vec<i64>> {
        let mut d = vec![vec![0i64; n_post]; row_end.len()];
        let mut start = 0;
        for (i, &e) in row_end.iter().enumerate() {
            for k in start..e as usize {
                d[i][cols[k] as usize] = w[k] as i64;
            }
            start = e as usize;
        }
        d
    }

    #[test]
    fn spike_path_equals_integer_reference() {
        let mut rng = Rng::new(21);
        for &(n_pre, n_post, p) in &[(1, 1, 1.0), (30, 50, 0.1), (100, 40, 0.5), (64, 300, 0.02)] {
            let (row_end, cols) = random_csr(&mut rng, n_pre, n_post, p);
            let mut w = random_i16(&mut rng, cols.len());
            let dense = to_dense(n_post, &row_end, &cols, &w);
            let mut acc = vec![-5; n_post];
            let scale = Scale::new(0.02).unwrap();
            let csr = Csr::new(n_post, &row_end, &cols).unwrap();
            let mut s = Sparse::new(csr, &mut w, &mut acc, scale).unwrap();
            let mut target = random_rates(&mut rng, n_post);
            for _ in 0..4 {
                let mut spikes: Vec<u16> = (0..n_pre as u16)
                    .filter(|_| rng.next_u32().is_multiple_of(4))
                    .collect();
                spikes.extend([n_pre as u16, 60_000, u16::MAX]); // ignored
                let want: Vec<Fix> = (0..n_post)
                    .map(|j| {
                        let sum: i64 = spikes
                            .iter()
                            .filter(|&&i| (i as usize) < n_pre)
                            .map(|&i| dense[i as usize][j])
                            .sum();
                        deliver_ref(scale, sum, target[j])
                    })
                    .collect();
                s.propagate(&spikes, &mut target);
                assert_eq!(target, want, "{n_pre}x{n_post} p={p}");
            }
        }
    }

    #[test]
    fn rate_path_close_to_float_reference_and_exact_to_integer_model() {
        let mut rng = Rng::new(8);
        let (n_pre, n_post) = (80, 60);
        let (row_end, cols) = random_csr(&mut rng, n_pre, n_post, 0.2);
        let mut w = random_i16(&mut rng, cols.len());
        let dense = to_dense(n_post, &row_end, &cols, &w);
        let mut acc = vec![0; n_post];
        let scale = Scale::new(3e-4).unwrap();
        let csr = Csr::new(n_post, &row_end, &cols).unwrap();
        let mut s = Sparse::new(csr, &mut w, &mut acc, scale).unwrap();
        let x = random_rates(&mut rng, n_pre);
        let t0 = random_rates(&mut rng, n_post);
        let mut target = t0.clone();
        let mut wide = vec![77i64; n_post]; // garbage: zeroed by the call
        s.propagate_rates(&x, &mut wide, &mut target);
        let l = lsb(scale);
        for j in 0..n_post {
            let exact: f64 = (0..n_pre)
                .map(|i| dense[i][j] as f64 * x[i].to_num::<f64>())
                .sum();
            let want = t0[j].to_num::<f64>() + exact * l;
            let got = target[j].to_num::<f64>();
            let bound = (exact * l).abs() * 2f64.powi(-15) + 2f64.powi(-16);
            assert!((got - want).abs() <= bound, "j={j}: {got} vs {want}");
            let sum: i64 = (0..n_pre)
                .map(|i| dense[i][j] * x[i].to_bits() as i64)
                .sum();
            assert_eq!(target[j], t0[j].saturating_add(scale.apply_wide(sum)));
        }
        // a short wide buffer limits the targets reached, without panicking
        let mut short = vec![0i64; 10];
        let mut t = vec![Fix::ZERO; n_post];
        s.propagate_rates(&x, &mut short, &mut t);
        assert!(t[10..].iter().all(|&v| v == Fix::ZERO));
    }

    #[test]
    fn accumulators_saturate() {
        let row_end = [1u32];
        let cols = [0u16];
        let mut w = [i16::MIN];
        let mut acc = [0];
        let csr = Csr::new(1, &row_end, &cols).unwrap();
        let mut s = Sparse::new(csr, &mut w, &mut acc, Scale::new(1.0).unwrap()).unwrap();
        s.accumulate(&[0u16; 66_000]);
        assert_eq!(s.acc[0], i32::MIN);
        let mut t = [Fix::from_num(-1)];
        s.deliver(&mut t);
        assert_eq!(t[0], Fix::MIN);
    }

    #[test]
    fn csr_validation_refuses_bad_input() {
        // good
        assert!(Csr::new(4, &[2, 2, 3], &[0, 3, 1]).is_ok());
        assert!(Csr::new(0, &[0, 0], &[]).is_ok());
        assert!(Csr::new(5, &[], &[]).is_ok());
        // non-monotonic row ends
        assert!(matches!(
            Csr::new(4, &[2, 1, 3], &[0, 3, 1]),
            Err(ConfigError::Invalid { .. })
        ));
        // last row end != cols.len()
        assert!(matches!(
            Csr::new(4, &[2, 2, 2], &[0, 3, 1]),
            Err(ConfigError::SizeMismatch { .. })
        ));
        assert!(matches!(
            Csr::new(4, &[], &[1]),
            Err(ConfigError::SizeMismatch { .. })
        ));
        // column out of range
        assert!(matches!(
            Csr::new(3, &[2, 2, 3], &[0, 3, 1]),
            Err(ConfigError::Invalid { .. })
        ));
        // unsorted or duplicate columns in a row
        assert!(Csr::new(4, &[2, 2, 3], &[3, 0, 1]).is_err());
        assert!(Csr::new(4, &[2, 2, 3], &[1, 1, 1]).is_err());
        // too large
        assert!(matches!(
            Csr::new(65_536, &[0], &[]),
            Err(ConfigError::TooLarge { .. })
        ));
        // weights / accumulators mismatched with the topology
        let csr = Csr::new(4, &[2, 2, 3], &[0, 3, 1]).unwrap();
        let s = Scale::new(1.0).unwrap();
        assert!(matches!(
            Sparse::new(csr, &mut [0i8; 2], &mut [0; 4], s),
            Err(ConfigError::SizeMismatch { .. })
        ));
        assert!(matches!(
            Sparse::new(csr, &mut [0i8; 3], &mut [0; 3], s),
            Err(ConfigError::SizeMismatch { .. })
        ));
        assert!(Sparse::new(csr, &mut [0i8; 3], &mut [0; 4], s).is_ok());
    }

    #[test]
    fn accessors() {
        let row_end = [2u32, 2, 3];
        let cols = [0u16, 3, 1];
        let csr = Csr::new(4, &row_end, &cols).unwrap();
        assert_eq!(csr.row(0), Some(&[0u16, 3][..]));
        assert_eq!(csr.row(1), Some(&[][..]));
        assert_eq!(csr.row(3), None);
        assert_eq!(csr.position(2, 1), Some(2));
        assert_eq!(csr.position(0, 1), None);
        assert_eq!(csr.position(0, 70_000), None);
        let mut w = [10i8, 11, 12];
        let mut acc = [0; 4];
        let mut s = Sparse::new(csr, &mut w, &mut acc, Scale::new(1.0).unwrap()).unwrap();
        assert_eq!(s.weight(0, 3), Some(11));
        assert_eq!(s.weight(1, 3), None);
        assert_eq!((s.n_pre(), s.n_post(), s.nnz()), (3, 4, 3));
        s.weights_mut()[2] = -1;
        assert_eq!(s.weights(), &[10, 11, -1]);
        // hook order: increasing post within the row
        struct Log(Vec<(usize, usize, i8)>);
        impl SynapseHook<i8> for Log {
            fn synapse(&mut self, pre: usize, post: usize, _k: usize, w: &mut i8) {
                self.0.push((pre, post, *w));
                *w = w.saturating_add(1);
            }
        }
        let mut h = Log(vec![]);
        s.accumulate_with(&[0, 2], &mut h);
        assert_eq!(h.0, [(0, 0, 10), (0, 3, 11), (2, 1, -1)]);
        let mut t = [Fix::ZERO; 4];
        s.deliver(&mut t);
        assert_eq!(t, [10, -1, 0, 11].map(Fix::from_num));
        assert_eq!(s.weights(), &[11, 12, 0]);
    }

    #[test]
    fn fixed_probability_count_is_binomial_and_deterministic() {
        for &(n_pre, n_post, p, autapses) in &[
            (1000usize, 1000usize, 0.02f32, false),
            (300, 700, 0.1, true),
            (2000, 50, 0.5, false),
            (100, 100, 0.999, true),
        ] {
            let pf = Frac::from_f32("p", p).unwrap();
            let mut row_end = vec![0u32; n_pre];
            let mut cols = vec![0u16; n_pre * n_post];
            let mut rng = Rng::new(99);
            let nnz = fixed_probability(
                n_pre,
                n_post,
                pf,
                autapses,
                &mut rng,
                &mut row_end,
                &mut cols,
            )
            .unwrap();
            let pairs = (n_pre * n_post - if autapses { 0 } else { n_pre.min(n_post) }) as f64;
            let (mean, sd) = (
                pairs * p as f64,
                (pairs * p as f64 * (1.0 - p as f64)).sqrt(),
            );
            assert!(
                (nnz as f64 - mean).abs() <= 4.0 * sd,
                "{n_pre}x{n_post} p={p}: {nnz} vs {mean} ± {sd}"
            );
            // valid CSR, no autapses when excluded
            let csr = Csr::new(n_post, &row_end, &cols[..nnz]).unwrap();
            if !autapses {
                assert!((0..n_pre.min(n_post)).all(|i| csr.position(i, i).is_none()));
            }
            // columns are used evenly: every column's in-degree within 5σ of its mean
            let mut indeg = vec![0usize; n_post];
            for &c in &cols[..nnz] {
                indeg[c as usize] += 1;
            }
            let m = n_pre as f64 * p as f64;
            let s = (m * (1.0 - p as f64)).sqrt();
            assert!(indeg.iter().all(|&d| (d as f64 - m).abs() <= 5.0 * s + 1.0));
            // same seed, same network; another seed, another network
            let mut row_end2 = vec![0u32; n_pre];
            let mut cols2 = vec![0u16; n_pre * n_post];
            let nnz2 = fixed_probability(
                n_pre,
                n_post,
                pf,
                autapses,
                &mut Rng::new(99),
                &mut row_end2,
                &mut cols2,
            )
            .unwrap();
            assert_eq!((nnz2, &row_end2, &cols2), (nnz, &row_end, &cols));
            let mut row_end3 = vec![0u32; n_pre];
            fixed_probability(
                n_pre,
                n_post,
                pf,
                autapses,
                &mut Rng::new(100),
                &mut row_end3,
                &mut cols2,
            )
            .unwrap();
            assert_ne!(row_end3, row_end);
        }
    }

    #[test]
    fn fixed_probability_edge_cases() {
        let mut row_end = [7u32; 5];
        let mut cols = [0u16; 25];
        let n = fixed_probability(
            5,
            5,
            Frac::ZERO,
            true,
            &mut Rng::new(1),
            &mut row_end,
            &mut cols,
        );
        assert_eq!(n, Ok(0));
        assert_eq!(row_end, [0; 5]);
        // too small a column buffer
        let mut cols = [0u16; 10];
        let one = Frac::from_f32("p", 1.0).unwrap();
        assert!(matches!(
            fixed_probability(5, 5, one, true, &mut Rng::new(1), &mut row_end, &mut cols),
            Err(ConfigError::CapacityExceeded { .. })
        ));
        assert!(matches!(
            fixed_probability(4, 5, one, true, &mut Rng::new(1), &mut row_end, &mut cols),
            Err(ConfigError::SizeMismatch { .. })
        ));
    }

    #[test]
    fn fixed_indegree_gives_exact_indegree() {
        let (n_pre, n_post, k) = (50, 80, 7);
        let mut row_end = vec![0u32; n_pre];
        let mut cols = vec![0u16; k * n_post];
        let nnz = fixed_indegree(
            n_pre,
            n_post,
            k,
            false,
            &mut Rng::new(4),
            &mut row_end,
            &mut cols,
        )
        .unwrap();
        assert_eq!(nnz, k * n_post);
        let csr = Csr::new(n_post, &row_end, &cols).unwrap(); // sorted, in range
        let mut indeg = vec![0usize; n_post];
        for &c in csr.cols() {
            indeg[c as usize] += 1;
        }
        assert!(indeg.iter().all(|&d| d == k));
        assert!((0..n_pre).all(|i| csr.position(i, i).is_none()));
        // every pre is chosen about k·n_post/n_pre ≈ 11 times (binomial, 5σ)
        let m = (k * n_post) as f64 / n_pre as f64;
        for i in 0..n_pre {
            let len = csr.row(i).unwrap().len() as f64;
            assert!((len - m).abs() <= 5.0 * m.sqrt(), "row {i}: {len}");
        }
        // deterministic
        let mut row_end2 = vec![0u32; n_pre];
        let mut cols2 = vec![0u16; k * n_post];
        fixed_indegree(
            n_pre,
            n_post,
            k,
            false,
            &mut Rng::new(4),
            &mut row_end2,
            &mut cols2,
        )
        .unwrap();
        assert_eq!((row_end2, cols2), (row_end, cols));
        // k = all candidates
        let mut row_end = vec![0u32; 5];
        let mut cols = vec![0u16; 20];
        fixed_indegree(5, 5, 4, false, &mut Rng::new(4), &mut row_end, &mut cols).unwrap();
        assert_eq!(row_end, [4, 8, 12, 16, 20]);
        assert!(fixed_indegree(5, 5, 5, false, &mut Rng::new(4), &mut row_end, &mut cols).is_err());
        assert!(fixed_indegree(5, 5, 6, true, &mut Rng::new(4), &mut row_end, &mut cols).is_err());
    }

    #[test]
    fn one_to_one_connects_i_to_i() {
        let mut row_end = [0u32; 4];
        let mut cols = [0u16; 4];
        assert_eq!(one_to_one(4, &mut row_end, &mut cols), Ok(4));
        let csr = Csr::new(4, &row_end, &cols).unwrap();
        let mut w = [1i8, 2, 3, 4];
        let mut acc = [0; 4];
        let mut s = Sparse::new(csr, &mut w, &mut acc, Scale::new(1.0).unwrap()).unwrap();
        let mut t = [Fix::ZERO; 4];
        s.propagate(&[1, 3], &mut t);
        assert_eq!(t, [0, 2, 0, 4].map(Fix::from_num));
    }

    #[test]
    fn const_storage() {
        assert_eq!(
            core::mem::size_of::<SparseStorage<i8, 100, 1000, 50>>(),
            4 * 100 + 3 * 1000 + 4 * 50
        );
        let mut st = SparseStorage::<i16, 20, 400, 20>::new();
        let p = Frac::from_f32("p", 0.3).unwrap();
        let nnz = st.fixed_probability(p, false, &mut Rng::new(3)).unwrap();
        st.w = [2; 400];
        let mut s = st.projection(Scale::new(1.0).unwrap()).unwrap();
        assert_eq!(s.nnz(), nnz);
        let mut t = [Fix::ZERO; 20];
        let all: Vec<u16> = (0..20).collect();
        s.propagate(&all, &mut t);
        let total: i32 = t.iter().map(|v| v.to_num::<i32>()).sum();
        assert_eq!(total as usize, 2 * nnz);
        // a corrupted topology is refused
        st.row_end[19] = 500;
        assert!(st.projection(Scale::new(1.0).unwrap()).is_err());
    }

    /// `propagate` delivers only the targets of this step's rows when it can; the result is the one
    /// of `accumulate` then a full `deliver`, including saturation, shared targets, a short target
    /// slice and spikes accumulated earlier.
    #[test]
    fn event_driven_propagate_equals_accumulate_then_deliver() {
        let mut rng = Rng::new(11);
        for (n_pre, n_post, p) in [(50, 40, 0.1), (30, 200, 0.02), (10, 10, 0.9), (5, 3, 0.5)] {
            let (row_end, cols) = random_csr(&mut rng, n_pre, n_post, p);
            let w0 = random_i16(&mut rng, cols.len());
            let csr = Csr::new(n_post, &row_end, &cols).unwrap();
            let scale = Scale::new(0.37).unwrap();
            for round in 0..40 {
                let k = rng.below(6) as usize;
                let mut spikes: Vec<u16> =
                    (0..k).map(|_| rng.below(n_pre as u32 + 2) as u16).collect();
                spikes.sort();
                spikes.dedup();
                let short = round % 5 == 0;
                let t_len = if short { n_post / 2 } else { n_post };
                let t0: Vec<Fix> = (0..t_len)
                    .map(|_| Fix::from_bits(rng.next_u32() as i32))
                    .collect();
                let earlier = round % 7 == 0;
                let (mut wa, mut acc_a, mut ta) = (w0.clone(), vec![0; n_post], t0.clone());
                let mut a = Sparse::new(csr, &mut wa, &mut acc_a, scale).unwrap();
                let (mut wb, mut acc_b, mut tb) = (w0.clone(), vec![0; n_post], t0.clone());
                let mut b = Sparse::new(csr, &mut wb, &mut acc_b, scale).unwrap();
                if earlier {
                    a.accumulate(&[0]);
                    b.accumulate(&[0]);
                }
                a.propagate(&spikes, &mut ta);
                b.accumulate(&spikes);
                b.deliver(&mut tb);
                assert_eq!(ta, tb);
                assert!(a.accumulators().iter().all(|&x| x == 0));
                assert!(b.accumulators().iter().all(|&x| x == 0));
            }
        }
    }
}
