//! A small seeded mutator for the smoke test that `cargo test` runs: not coverage-guided (that
//! is `make fuzz`), but it pushes a few thousand variants of each seed through every target on
//! every test run, the same ones each time.

/// xorshift64*: enough randomness for mutations, reproducible from its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Bytes that matter to the parsers here: line ends, separators, digits, JSON and SDP syntax.
const INTERESTING: &[u8] = b"\r\n:;=,/ \t\"{}[]<>0123456789-+.\\\x00\xff\x80";

/// One to four mutations of `seed`: bit flips, interesting bytes, inserted, deleted or
/// duplicated runs, a cut, or a splice with `other`.
pub fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut out = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let len = out.len();
        match rng.below(8) {
            0 if len > 0 => {
                let at = rng.below(len);
                out[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                out[at] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let at = rng.below(len + 1);
                out.insert(at, INTERESTING[rng.below(INTERESTING.len())]);
            }
            3 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(16)).min(len);
                out.drain(at..end);
            }
            4 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(32)).min(len);
                let run = out[at..end].to_vec();
                let to = rng.below(len + 1);
                out.splice(to..to, run);
            }
            5 => out.truncate(rng.below(len + 1)),
            6 if !other.is_empty() => {
                let from = rng.below(other.len());
                let at = rng.below(len + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            _ => {
                // A number field made extreme: a digit run becomes very large or zero.
                if let Some(at) = out.iter().position(|b| b.is_ascii_digit())
                    && rng.below(2) == 0
                {
                    out.splice(at..at, *b"4294967296");
                } else if len > 0 {
                    let at = rng.below(len);
                    out[at] = rng.next_u64() as u8;
                }
            }
        }
    }
    out
}
