//! Batched generation with a KV cache: left-padded prompts, temperature and nucleus (top-p)
//! sampling or greedy decoding, stop tokens and stop strings.
//!
//! Every request carries its own seed and draws from its own ChaCha stream, so a sample does
//! not depend on which other prompts share its batch, nor on the device.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use crate::error::LmError;
use crate::model::Model;

/// How to pick tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    /// 0 means greedy decoding.
    pub temperature: f64,
    /// Nucleus sampling: keep the smallest set of tokens whose probability reaches `top_p`.
    pub top_p: f64,
    /// Keep only the `top_k` most likely tokens (0 = no limit).
    pub top_k: usize,
    pub max_new_tokens: usize,
    /// Generation ends before the first occurrence of any of these strings.
    pub stop: Vec<String>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        SamplingParams {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            max_new_tokens: 256,
            stop: Vec::new(),
        }
    }
}

impl SamplingParams {
    pub fn greedy(max_new_tokens: usize) -> Self {
        SamplingParams {
            temperature: 0.0,
            max_new_tokens,
            ..Default::default()
        }
    }

    pub fn validate(&self) -> Result<(), LmError> {
        if !(self.temperature >= 0.0 && self.temperature.is_finite()) {
            return Err(LmError::Format(format!(
                "temperature must be >= 0, got {}",
                self.temperature
            )));
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return Err(LmError::Format(format!(
                "top_p must be in (0, 1], got {}",
                self.top_p
            )));
        }
        Ok(())
    }
}

/// One prompt (already tokenised) and the seed of its random stream.
#[derive(Debug, Clone)]
pub struct GenerationRequest {
    pub prompt: Vec<u32>,
    pub seed: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A stop token (EOS) was produced; it is not part of the output.
    Stop,
    /// A stop string appeared; the text is cut before it.
    StopString,
    /// `max_new_tokens` were generated.
    Length,
}

#[derive(Debug, Clone)]
pub struct Completion {
    /// Generated tokens (without the stop token).
    pub tokens: Vec<u32>,
    pub text: String,
    pub finish_reason: FinishReason,
}

/// Samples up to 1 + the nucleus from a row of sorted probabilities with `rng`.
fn draw(sorted_probs: &[f32], sorted_ids: &[i64], keep: usize, rng: &mut ChaCha8Rng) -> u32 {
    let total: f64 = sorted_probs[..keep].iter().map(|&p| p as f64).sum();
    let mut u = rng.random::<f64>() * total;
    for i in 0..keep {
        u -= sorted_probs[i] as f64;
        if u <= 0.0 {
            return sorted_ids[i] as u32;
        }
    }
    sorted_ids[keep - 1] as u32
}

/// Picks the next token of every row of `logits` (`[b, vocab]`).
fn next_tokens(logits: &Tensor, params: &SamplingParams, rngs: &mut [&mut ChaCha8Rng]) -> Vec<u32> {
    if params.temperature == 0.0 {
        let ids = logits.argmax(-1, false).to_device(tch::Device::Cpu);
        return Vec::<i64>::try_from(&ids)
            .expect("int64 ids")
            .into_iter()
            .map(|i| i as u32)
            .collect();
    }
    let probs = (logits.to_kind(Kind::Float) / params.temperature).softmax(-1, Kind::Float);
    let (sorted, ids) = probs.sort(-1, true);
    // Tokens before the one that takes the cumulative mass past top_p, plus that one.
    let cumulative = sorted.cumsum(-1, Kind::Float);
    let mut keep = (cumulative.lt_tensor(&(Tensor::from(params.top_p as f32)))).sum_dim_intlist(
        -1,
        false,
        Kind::Int64,
    ) + 1;
    let vocab = sorted.size()[1];
    if params.top_k > 0 {
        keep = keep.clamp_max(params.top_k as i64);
    }
    keep = keep.clamp_max(vocab);
    let keep: Vec<i64> = Vec::try_from(&keep.to_device(tch::Device::Cpu)).expect("int64");
    let width = *keep.iter().max().expect("non-empty batch");
    let sorted = sorted
        .narrow(1, 0, width)
        .to_device(tch::Device::Cpu)
        .contiguous();
    let ids = ids
        .narrow(1, 0, width)
        .to_device(tch::Device::Cpu)
        .contiguous();
    let sorted: Vec<Vec<f32>> = Vec::try_from(&sorted).expect("f32 rows");
    let ids: Vec<Vec<i64>> = Vec::try_from(&ids).expect("int64 rows");
    (0..rngs.len())
        .map(|r| draw(&sorted[r], &ids[r], keep[r] as usize, rngs[r]))
        .collect()
}

/// Generates one completion per request, `batch_size` requests at a time.
/// `on_done(i, completion)` is called as soon as request `i` is finished (batch by batch).
/// `stop_ids` end a sequence; `decode` turns tokens into text (for stop strings and output).
#[allow(clippy::too_many_arguments)]
pub fn generate(
    model: &Model,
    requests: &[GenerationRequest],
    params: &SamplingParams,
    stop_ids: &[u32],
    pad_id: u32,
    batch_size: usize,
    decode: &dyn Fn(&[u32]) -> Result<String, LmError>,
    mut on_done: impl FnMut(usize, &Completion),
) -> Result<Vec<Completion>, LmError> {
    params.validate()?;
    let mut out = Vec::with_capacity(requests.len());
    for (chunk_index, chunk) in requests.chunks(batch_size.max(1)).enumerate() {
        let done = tch::no_grad(|| generate_batch(model, chunk, params, stop_ids, pad_id, decode))?;
        for (i, c) in done.into_iter().enumerate() {
            on_done(chunk_index * batch_size.max(1) + i, &c);
            out.push(c);
        }
    }
    Ok(out)
}

struct Row {
    tokens: Vec<u32>,
    finish: Option<FinishReason>,
    text: Option<String>,
    rng: ChaCha8Rng,
}

fn generate_batch(
    model: &Model,
    requests: &[GenerationRequest],
    params: &SamplingParams,
    stop_ids: &[u32],
    pad_id: u32,
    decode: &dyn Fn(&[u32]) -> Result<String, LmError>,
) -> Result<Vec<Completion>, LmError> {
    let device = model.device();
    let b = requests.len() as i64;
    let lengths: Vec<i64> = requests.iter().map(|r| r.prompt.len() as i64).collect();
    if lengths.contains(&0) {
        return Err(LmError::Format(
            "cannot generate from an empty prompt".into(),
        ));
    }
    let p = *lengths.iter().max().expect("non-empty");
    let max_new = params.max_new_tokens as i64;
    let capacity = p + max_new;
    if capacity > model.config.max_position_embeddings {
        warn_past_max_positions(capacity, model.config.max_position_embeddings);
    }

    // Left padding: row i's prompt sits in columns p - len_i .. p.
    let mut ids = vec![pad_id as i64; (b * p) as usize];
    let mut valid = vec![false; (b * capacity) as usize];
    let mut positions = vec![0i64; (b * p) as usize];
    for (i, r) in requests.iter().enumerate() {
        let offset = (p - lengths[i]) as usize;
        for (j, &tok) in r.prompt.iter().enumerate() {
            let col = offset + j;
            ids[i * p as usize + col] = tok as i64;
            positions[i * p as usize + col] = j as i64;
        }
        for col in offset..capacity as usize {
            valid[i * capacity as usize + col] = true;
        }
    }
    let ids = Tensor::from_slice(&ids).view([b, p]).to_device(device);
    let positions = Tensor::from_slice(&positions)
        .view([b, p])
        .to_device(device);
    let mut key_valid = Tensor::from_slice(&valid)
        .view([b, capacity])
        .to_device(device);

    // Prefill: causal within the prompt, padding keys hidden; a padding query sees itself so
    // that no attention row is empty.
    let causal = Tensor::ones([p, p], (Kind::Bool, device)).tril(0);
    let eye = Tensor::eye(p, (Kind::Bool, device));
    let mask = (key_valid
        .narrow(1, 0, p)
        .view([b, 1, 1, p])
        .logical_and(&causal))
    .logical_or(&eye);
    let mut cache = model.new_cache(b, capacity);
    let hidden = model.forward_cached(&ids, &positions, &mask, &mut cache);
    let mut logits = model.logits(&hidden.narrow(1, p - 1, 1)).squeeze_dim(1);

    let mut rows: Vec<Row> = requests
        .iter()
        .map(|r| Row {
            tokens: Vec::new(),
            finish: None,
            text: None,
            rng: ChaCha8Rng::seed_from_u64(r.seed),
        })
        .collect();
    // Rows still generating, as indices into `rows`; the cache holds exactly these.
    let mut active: Vec<usize> = (0..rows.len()).collect();
    for step in 0..max_new {
        let picked = {
            let mut rngs: Vec<&mut ChaCha8Rng> = Vec::with_capacity(active.len());
            let mut by_index: Vec<Option<&mut Row>> = rows.iter_mut().map(Some).collect();
            for &a in &active {
                rngs.push(&mut by_index[a].take().expect("distinct rows").rng);
            }
            next_tokens(&logits, params, &mut rngs)
        };
        for (slot, &a) in active.iter().enumerate() {
            let row = &mut rows[a];
            let tok = picked[slot];
            if stop_ids.contains(&tok) {
                row.finish = Some(FinishReason::Stop);
                continue;
            }
            row.tokens.push(tok);
            if !params.stop.is_empty() {
                let text = decode(&row.tokens)?;
                if let Some(cut) = params
                    .stop
                    .iter()
                    .filter_map(|s| text.find(s.as_str()))
                    .min()
                {
                    row.text = Some(text[..cut].to_owned());
                    row.finish = Some(FinishReason::StopString);
                    continue;
                }
            }
            if row.tokens.len() as i64 == max_new {
                row.finish = Some(FinishReason::Length);
            }
        }
        let still: Vec<usize> = (0..active.len())
            .filter(|&slot| rows[active[slot]].finish.is_none())
            .collect();
        if still.is_empty() {
            break;
        }
        let next: Vec<i64> = still.iter().map(|&slot| picked[slot] as i64).collect();
        if still.len() < active.len() {
            let keep = Tensor::from_slice(&still.iter().map(|&s| s as i64).collect::<Vec<_>>())
                .to_device(device);
            cache.retain(&keep);
            key_valid = key_valid.index_select(0, &keep);
            active = still.iter().map(|&slot| active[slot]).collect();
        }
        let n = active.len() as i64;
        let pos: Vec<i64> = active.iter().map(|&a| lengths[a] + step).collect();
        let input = Tensor::from_slice(&next).view([n, 1]).to_device(device);
        let pos = Tensor::from_slice(&pos).view([n, 1]).to_device(device);
        let seen = cache.len() + 1;
        let mask = key_valid.narrow(1, 0, seen).view([n, 1, 1, seen]);
        let hidden = model.forward_cached(&input, &pos, &mask, &mut cache);
        logits = model.logits(&hidden).squeeze_dim(1);
    }
    rows.into_iter()
        .map(|row| {
            let text = match row.text {
                Some(t) => t,
                None => decode(&row.tokens)?,
            };
            Ok(Completion {
                tokens: row.tokens,
                text,
                finish_reason: row.finish.unwrap_or(FinishReason::Length),
            })
        })
        .collect()
}

fn warn_past_max_positions(capacity: i64, max_positions: i64) {
    eprintln!(
        "warning: prompt + max_new_tokens = {capacity} exceeds the model's \
         max_position_embeddings ({max_positions}); quality may drop past it"
    );
}
