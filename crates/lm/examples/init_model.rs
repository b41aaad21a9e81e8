//! Writes a randomly initialised chat model directory (Qwen3 layout, ChatML template, a
//! byte-level BPE tokenizer trained on the text files given), for benchmarks that need a model
//! of a given size and no weights can be downloaded.
//!
//! cargo run --release -p neglect-lm --example init_model -- OUT_DIR HIDDEN LAYERS VOCAB [TEXT_FILE...]

use std::path::PathBuf;

use neglect_lm::chat_template::{CHATML, ChatTemplate};
use neglect_lm::pretrained::{GenerationConfig, Pretrained};
use neglect_lm::tokenizer::{Tokenizer, train_byte_level_bpe};
use neglect_lm::{Family, Kind, Model, ModelConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: init_model OUT_DIR HIDDEN LAYERS VOCAB [TEXT_FILE...]");
        std::process::exit(2);
    }
    let out = PathBuf::from(&args[0]);
    let hidden: i64 = args[1].parse().expect("HIDDEN");
    let layers: i64 = args[2].parse().expect("LAYERS");
    let vocab: usize = args[3].parse().expect("VOCAB");
    let mut text: Vec<String> = args[4..]
        .iter()
        .flat_map(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_else(|e| panic!("{p}: {e}"))
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    if text.is_empty() {
        text.push("The quick brown fox jumps over the lazy dog.".into());
    }
    let inner = train_byte_level_bpe(
        text.into_iter(),
        vocab,
        &["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
    )
    .expect("tokenizer");
    let config = serde_json::json!({"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "chat_template": CHATML});
    let tokenizer = Tokenizer::from_parts(inner, config.as_object().unwrap().clone());
    tch::manual_seed(0);
    let heads = (hidden / 64).max(1);
    let mut model_config = ModelConfig::tiny(
        Family::Qwen3,
        tokenizer.vocab_size() as i64,
        hidden,
        layers,
        heads,
        heads,
    );
    model_config.max_position_embeddings = 2048;
    let pretrained = Pretrained {
        model: Model::new(model_config, tch::Device::Cpu).expect("model"),
        chat_template: Some(ChatTemplate::new(CHATML, "", "<|im_end|>").expect("template")),
        tokenizer,
        generation: GenerationConfig::default(),
    };
    pretrained.save(&out, Kind::Float).expect("save");
    let params = pretrained.model.num_parameters();
    println!("{}: {params} parameters", out.display());
}
