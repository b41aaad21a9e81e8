//! Batched log-probabilities of candidate continuations given a prompt.

use tch::{Kind, Tensor};

use crate::error::LmError;
use crate::model::Model;

/// A prompt and one candidate continuation, both tokenised.
#[derive(Debug, Clone)]
pub struct ScoreRequest {
    pub prompt: Vec<u32>,
    pub continuation: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ContinuationScore {
    /// Sum of the continuation tokens' log-probabilities (natural log).
    pub logprob: f64,
    pub token_logprobs: Vec<f64>,
    /// Whether every continuation token was the argmax at its position.
    pub is_greedy: bool,
}

/// Scores `requests`, `batch_size` at a time. Rows are right-padded, so one causal forward
/// pass per batch serves every request in it; only the continuation positions are unembedded.
pub fn score(
    model: &Model,
    requests: &[ScoreRequest],
    pad_id: u32,
    batch_size: usize,
) -> Result<Vec<ContinuationScore>, LmError> {
    let mut out = Vec::with_capacity(requests.len());
    for chunk in requests.chunks(batch_size.max(1)) {
        out.extend(tch::no_grad(|| score_batch(model, chunk, pad_id))?);
    }
    Ok(out)
}

fn score_batch(
    model: &Model,
    requests: &[ScoreRequest],
    pad_id: u32,
) -> Result<Vec<ContinuationScore>, LmError> {
    let device = model.device();
    for r in requests {
        if r.prompt.is_empty() {
            return Err(LmError::Format(
                "scoring needs a non-empty prompt (add a BOS token for an empty one)".into(),
            ));
        }
        if r.continuation.is_empty() {
            return Err(LmError::Format("cannot score an empty continuation".into()));
        }
    }
    let total: Vec<usize> = requests
        .iter()
        .map(|r| r.prompt.len() + r.continuation.len())
        .collect();
    let t = *total.iter().max().expect("non-empty") as i64;
    let b = requests.len() as i64;
    let mut ids = vec![pad_id as i64; (b * t) as usize];
    // (row, position whose logits predict the token, target token)
    let mut row_index = Vec::new();
    let mut pos_index = Vec::new();
    let mut targets = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let row = &mut ids[i * t as usize..(i + 1) * t as usize];
        for (j, &tok) in r.prompt.iter().chain(&r.continuation).enumerate() {
            row[j] = tok as i64;
        }
        for (k, &tok) in r.continuation.iter().enumerate() {
            row_index.push(i as i64);
            pos_index.push((r.prompt.len() + k - 1) as i64);
            targets.push(tok as i64);
        }
    }
    let ids = Tensor::from_slice(&ids).view([b, t]).to_device(device);
    let hidden = model.hidden(&ids);
    let rows = Tensor::from_slice(&row_index).to_device(device);
    let positions = Tensor::from_slice(&pos_index).to_device(device);
    let picked = hidden.index(&[Some(rows), Some(positions)]);
    let logprobs = model.logits(&picked).log_softmax(-1, Kind::Double);
    let target = Tensor::from_slice(&targets).to_device(device);
    let chosen = logprobs
        .gather(1, &target.unsqueeze(1), false)
        .squeeze_dim(1);
    let greedy = logprobs.argmax(-1, false).eq_tensor(&target);
    let chosen: Vec<f64> = Vec::try_from(&chosen.to_device(tch::Device::Cpu))?;
    let greedy: Vec<bool> = Vec::try_from(&greedy.to_device(tch::Device::Cpu))?;
    let mut out = Vec::with_capacity(requests.len());
    let mut at = 0;
    for r in requests {
        let n = r.continuation.len();
        let token_logprobs = chosen[at..at + n].to_vec();
        out.push(ContinuationScore {
            logprob: token_logprobs.iter().sum(),
            is_greedy: greedy[at..at + n].iter().all(|&g| g),
            token_logprobs,
        });
        at += n;
    }
    Ok(out)
}
