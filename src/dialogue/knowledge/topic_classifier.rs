//! A classifier of FAQ topics trained at load on the FAQ itself: multinomial logistic
//! regression over the two embedding models' vectors of every phrasing and every entry's
//! question-and-answer passage, labelled with their topic.
//!
//! Nearest-phrasing similarity treats every dimension of a vector alike; the classifier
//! learns which directions tell *this* FAQ's topics apart (in a courier's FAQ, "how long"
//! versus "how much" matters more than "parcel"), from the company's own phrasings, in a few
//! hundred milliseconds. Its log-probability joins the ranking score with a small weight.
//! Measured on the dev cases of three FAQs (ranking only, right topic first; replayed from
//! embeddings of the same folded texts): mean of the nine FAQ × language cells 87.9% →
//! 90.4%, courier English 74.5 → 80.4%; with e5's vectors alone it gained nothing, so it is
//! trained only when the second model is loaded.

/// Passes of full-batch gradient descent (with Nesterov momentum) over the examples.
const ITERATIONS: usize = 300;
/// Step size and momentum of the descent.
const LEARNING_RATE: f32 = 2.0;
const MOMENTUM: f32 = 0.9;
/// L2 penalty on the weights, per example (weak: the FAQ's phrasings are few and clean).
const L2: f32 = 3e-4;
/// Largest training cost accepted at load, in multiply-adds (≈ 1-2 s on one core); an FAQ
/// bigger than this is ranked without the classifier (logged).
const MAX_TRAINING_WORK: f64 = 40e9;

/// Logistic regression weights: `features × topics`, row-major, and one bias per topic.
#[derive(Debug)]
pub struct TopicClassifier {
    weights: Vec<f32>,
    bias: Vec<f32>,
    features: usize,
    topics: usize,
}

impl TopicClassifier {
    /// Trains on `examples` (feature vectors, all of one length) labelled with topic numbers
    /// `labels` (< `topics`). `None` when there is nothing to learn (fewer than two topics,
    /// no examples) or the FAQ is too big to train at load.
    pub fn train(examples: &[Vec<f32>], labels: &[usize], topics: usize) -> Option<Self> {
        let n = examples.len();
        let d = examples.first()?.len();
        if topics < 2 || d == 0 || n != labels.len() || labels.iter().any(|&l| l >= topics) {
            return None;
        }
        if examples.iter().any(|x| x.len() != d) {
            return None;
        }
        let work = 2.0 * ITERATIONS as f64 * n as f64 * d as f64 * topics as f64;
        if work > MAX_TRAINING_WORK {
            tracing::info!(
                examples = n,
                topics,
                "FAQ too big to train its topic classifier at load; ranked by similarity alone"
            );
            return None;
        }
        let x: Vec<f32> = examples.iter().flatten().copied().collect();
        let mut w = vec![0.0f32; d * topics];
        let mut b = vec![0.0f32; topics];
        let mut vw = vec![0.0f32; d * topics];
        let mut vb = vec![0.0f32; topics];
        let mut look_w = vec![0.0f32; d * topics];
        let mut look_b = vec![0.0f32; topics];
        let mut z = vec![0.0f32; n * topics];
        let mut gw = vec![0.0f32; d * topics];
        for _ in 0..ITERATIONS {
            for (l, (wi, vi)) in look_w.iter_mut().zip(w.iter().zip(&vw)) {
                *l = wi + MOMENTUM * vi;
            }
            for (l, (bi, vi)) in look_b.iter_mut().zip(b.iter().zip(&vb)) {
                *l = bi + MOMENTUM * vi;
            }
            // z = x · w (n × topics), then the softmax minus the one-hot labels, over n.
            gemm(n, d, topics, &x, (d, 1), &look_w, (topics, 1), &mut z);
            let mut gb = vec![0.0f32; topics];
            for (row, &label) in z.chunks_mut(topics).zip(labels) {
                for (v, bias) in row.iter_mut().zip(&look_b) {
                    *v += bias;
                }
                softmax_in_place(row);
                row[label] -= 1.0;
                for (g, v) in gb.iter_mut().zip(row.iter_mut()) {
                    *v /= n as f32;
                    *g += *v;
                }
            }
            // gw = xᵀ · z + L2 · w
            gemm(d, n, topics, &x, (1, d), &z, (topics, 1), &mut gw);
            for (g, l) in gw.iter_mut().zip(&look_w) {
                *g += L2 * l;
            }
            for ((wi, vi), g) in w.iter_mut().zip(vw.iter_mut()).zip(&gw) {
                *vi = MOMENTUM * *vi - LEARNING_RATE * g;
                *wi += *vi;
            }
            for ((bi, vi), g) in b.iter_mut().zip(vb.iter_mut()).zip(&gb) {
                *vi = MOMENTUM * *vi - LEARNING_RATE * g;
                *bi += *vi;
            }
        }
        Some(Self {
            weights: w,
            bias: b,
            features: d,
            topics,
        })
    }

    /// The natural log of each topic's probability for `features` (topic order); `None`
    /// when the vector's length is not the trained one.
    pub fn log_probabilities(&self, features: &[f32]) -> Option<Vec<f32>> {
        if features.len() != self.features {
            return None;
        }
        let mut z = self.bias.clone();
        for (x, row) in features.iter().zip(self.weights.chunks(self.topics)) {
            for (zi, wi) in z.iter_mut().zip(row) {
                *zi += x * wi;
            }
        }
        let max = z.iter().copied().fold(f32::MIN, f32::max);
        let log_sum = z.iter().map(|v| (v - max).exp()).sum::<f32>().ln() + max;
        Some(z.into_iter().map(|v| v - log_sum).collect())
    }
}

/// The first model's vector followed by the second's: the classifier's features.
pub fn joined_features(first: &[f32], second: &[f32]) -> Vec<f32> {
    first.iter().chain(second).copied().collect()
}

fn softmax_in_place(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::MIN, f32::max);
    let mut sum = 0.0;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    for v in row.iter_mut() {
        *v /= sum;
    }
}

/// `c (m × n) = a (m × k) · b (k × n)`, `a` and `b` read with the given (row, column)
/// strides, `c` row-major.
#[allow(clippy::too_many_arguments)]
fn gemm(
    m: usize,
    k: usize,
    n: usize,
    a: &[f32],
    a_strides: (usize, usize),
    b: &[f32],
    b_strides: (usize, usize),
    c: &mut [f32],
) {
    let last = |rows: usize, cols: usize, (rs, cs): (usize, usize)| {
        (rows.saturating_sub(1)) * rs + (cols.saturating_sub(1)) * cs
    };
    assert!(m * k == 0 || last(m, k, a_strides) < a.len());
    assert!(k * n == 0 || last(k, n, b_strides) < b.len());
    assert!(c.len() >= m * n);
    // SAFETY: the asserts above keep every index the strides reach inside the slices; `c` is
    // written only within its first m × n elements and aliases neither input.
    unsafe {
        matrixmultiply::sgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            a_strides.0 as isize,
            a_strides.1 as isize,
            b.as_ptr(),
            b_strides.0 as isize,
            b_strides.1 as isize,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: Vec<f32>) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.into_iter().map(|x| x / n).collect()
    }

    #[test]
    fn learns_which_direction_separates_topics_that_look_alike() {
        // Every example shares a large common part; only the small second coordinate says
        // the topic. Nearest-neighbour similarity barely tells them apart, the classifier must.
        let examples: Vec<Vec<f32>> = (0..20)
            .map(|i| {
                let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
                unit(vec![1.0, 0.1 * sign, (i as f32 * 0.37).sin() * 0.05])
            })
            .collect();
        let labels: Vec<usize> = (0..20).map(|i| i % 2).collect();
        let classifier = TopicClassifier::train(&examples, &labels, 2).expect("trained");
        let p0 = classifier
            .log_probabilities(&unit(vec![1.0, 0.08, 0.0]))
            .expect("length");
        let p1 = classifier
            .log_probabilities(&unit(vec![1.0, -0.08, 0.0]))
            .expect("length");
        assert!(p0[0] > p0[1] + 1.0, "{p0:?}");
        assert!(p1[1] > p1[0] + 1.0, "{p1:?}");
        let total: f32 = p0.iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-4);
    }

    #[test]
    fn refuses_what_it_cannot_learn_from() {
        assert!(TopicClassifier::train(&[], &[], 3).is_none());
        assert!(TopicClassifier::train(&[vec![1.0]], &[0], 1).is_none());
        assert!(TopicClassifier::train(&[vec![1.0], vec![1.0, 2.0]], &[0, 1], 2).is_none());
        assert!(TopicClassifier::train(&[vec![1.0], vec![0.0]], &[0, 5], 2).is_none());
        let c = TopicClassifier::train(&[vec![1.0], vec![-1.0]], &[0, 1], 2).expect("trained");
        assert!(c.log_probabilities(&[1.0, 2.0]).is_none());
    }
}
