//! `beta^t` for the bias corrections of the Adam family, memoised per thread.
//!
//! Every run of a batch evaluates `beta.powf(t)` for the same few betas and the same t = 1, 2,
//! ...; `powf` is the most expensive operation of an Adam step. The cache stores exactly what
//! `powf` returns, so results are bit-for-bit those of calling `powf` directly.

use std::cell::RefCell;

/// Exponents above this are computed directly, not cached.
const MAX_CACHED: u64 = 1 << 16;
/// Bases remembered at once per thread (Adam uses two; a race uses a few more).
const SLOTS: usize = 8;

struct Slot {
    base: u64,
    /// `values[t] = base.powf(t)`, filled on demand.
    values: Vec<f64>,
}

thread_local! {
    static CACHE: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
}

/// `base.powf(t as f64)`, memoised.
#[inline]
pub fn pow_t(base: f64, t: u64) -> f64 {
    if t > MAX_CACHED {
        return base.powf(t as f64);
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let bits = base.to_bits();
        let i = match cache.iter().position(|s| s.base == bits) {
            Some(i) => i,
            None => {
                if cache.len() == SLOTS {
                    cache.remove(0);
                }
                cache.push(Slot {
                    base: bits,
                    values: Vec::new(),
                });
                cache.len() - 1
            }
        };
        let slot = &mut cache[i];
        let t = t as usize;
        while slot.values.len() <= t {
            let k = slot.values.len() as f64;
            slot.values.push(base.powf(k));
        }
        slot.values[t]
    })
}

#[cfg(test)]
mod tests {
    use super::pow_t;

    #[test]
    fn equals_powf_bit_for_bit() {
        for base in [0.9, 0.999, 0.99, 0.5, 0.123456789] {
            for t in [0u64, 1, 2, 3, 10, 299, 300, 5000, 70_000] {
                assert_eq!(pow_t(base, t).to_bits(), base.powf(t as f64).to_bits());
            }
        }
    }
}
