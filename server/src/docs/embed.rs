//! Optional semantic search: when `EMBEDDINGS_MODEL` is set, every section is embedded with an
//! OpenAI-compatible `/embeddings` endpoint (the chat model's base URL and key), the vectors are
//! cached on disk by a checksum of the model and the section's text (so a restart or a re-index
//! embeds only what changed), and searches fuse the BM25 ranking with the cosine ranking by
//! reciprocal rank. Any failure leaves search on BM25 alone.
use std::{
    collections::HashMap,
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Secret;

/// Texts per request (OpenAI accepts 2,048; local servers are happier with fewer).
const BATCH: usize = 64;
/// Longest text embedded per section, in characters (embedding models take ~8k tokens at most).
const MAX_CHARS: usize = 4_000;
/// Longest wait for the query's vector: past it the search answers with BM25 alone.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct Embedder {
    client: reqwest::Client,
    endpoint: String,
    model: String,
    api_key: Option<Secret>,
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    embedding: Vec<f32>,
    #[serde(default)]
    index: Option<usize>,
}

impl Embedder {
    pub fn new(base_url: &str, model: &str, api_key: Option<Secret>) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            client,
            endpoint: format!("{}/embeddings", base_url.trim_end_matches('/')),
            model: model.to_string(),
            api_key,
        })
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    /// Unit vectors for `inputs`, in order. An error never contains the API key.
    pub async fn embed(&self, inputs: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        self.request(inputs).await.map_err(|e| match &self.api_key {
            Some(key) if !key.expose().is_empty() => {
                anyhow::anyhow!("{}", format!("{e:#}").replace(key.expose(), "[redacted]"))
            }
            _ => e,
        })
    }

    async fn request(&self, inputs: &[String]) -> anyhow::Result<Vec<Vec<f32>>> {
        let mut req = self
            .client
            .post(&self.endpoint)
            .json(&serde_json::json!({"model": self.model, "input": inputs}));
        if let Some(key) = &self.api_key {
            req = req.bearer_auth(key.expose());
        }
        let resp = req.send().await?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            let body: String = body.chars().take(300).collect();
            anyhow::bail!("{} answered {status}: {body}", self.endpoint);
        }
        // A batch of vectors as JSON is a few MB; far more is not an embeddings answer.
        let bytes = crate::outbound::read_capped(resp, 64 * 1024 * 1024).await?;
        let mut body: Response = serde_json::from_slice(&bytes)?;
        if body.data.len() != inputs.len() {
            anyhow::bail!(
                "{} returned {} vectors for {} inputs",
                self.endpoint,
                body.data.len(),
                inputs.len()
            );
        }
        if body.data.iter().all(|d| d.index.is_some()) {
            body.data.sort_by_key(|d| d.index);
        }
        let dims = body.data[0].embedding.len();
        let mut out = Vec::with_capacity(body.data.len());
        for item in body.data {
            if item.embedding.len() != dims || dims == 0 {
                anyhow::bail!("{} returned vectors of different lengths", self.endpoint);
            }
            out.push(normalized(item.embedding));
        }
        Ok(out)
    }
}

fn normalized(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
    v
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// What is embedded for a section: where it is, then its text.
pub fn section_text(title: &str, section: &super::Section) -> String {
    let mut out = section.trail(title);
    out.push_str("\n\n");
    out.extend(section.text.chars().take(MAX_CHARS));
    out
}

/// Vectors on disk: one JSON line `{"k": checksum, "v": [...]}` per text, appended as they are
/// made, read back at start. A damaged line (a crash mid-write) is skipped and made again.
pub struct Cache {
    path: PathBuf,
    vectors: HashMap<String, Vec<f32>>,
}

impl Cache {
    pub fn open(dir: &Path, model: &str) -> Self {
        let name: String = model
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = dir.join(format!("{name}.jsonl"));
        let mut vectors = HashMap::new();
        if let Ok(text) = std::fs::read_to_string(&path) {
            for line in text.lines() {
                #[derive(Deserialize)]
                struct Line {
                    k: String,
                    v: Vec<f32>,
                }
                if let Ok(l) = serde_json::from_str::<Line>(line) {
                    vectors.insert(l.k, l.v);
                }
            }
        }
        Self { path, vectors }
    }

    pub fn key(model: &str, text: &str) -> String {
        let mut h = Sha256::new();
        h.update(model.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    }

    pub fn get(&self, key: &str) -> Option<&Vec<f32>> {
        self.vectors.get(key)
    }

    pub fn len(&self) -> usize {
        self.vectors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// Once texts that are gone from the docs hold most of the cache, rewrites it with `keep`
    /// only (to a new file renamed over the old, so a crash leaves one or the other).
    pub fn compact(&mut self, keep: &[String]) {
        if self.vectors.len() <= keep.len() * 2 {
            return;
        }
        let keep: std::collections::HashSet<&String> = keep.iter().collect();
        self.vectors.retain(|k, _| keep.contains(k));
        let tmp = self.path.with_extension("jsonl.tmp");
        let mut buf = String::new();
        for (k, v) in &self.vectors {
            buf.push_str(&serde_json::json!({"k": k, "v": v}).to_string());
            buf.push('\n');
        }
        if let Err(e) = std::fs::write(&tmp, buf).and_then(|_| std::fs::rename(&tmp, &self.path)) {
            tracing::warn!(path = %self.path.display(), error = %e, "could not compact the embeddings cache");
        }
    }

    /// Keeps new vectors in memory and appends them to the file (best effort: a cache that
    /// cannot be written only costs embedding again next time).
    pub fn insert_all(&mut self, items: Vec<(String, Vec<f32>)>) {
        let write = || -> std::io::Result<()> {
            if let Some(dir) = self.path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)?;
            let mut buf = String::new();
            for (k, v) in &items {
                buf.push_str(&serde_json::json!({"k": k, "v": v}).to_string());
                buf.push('\n');
            }
            file.write_all(buf.as_bytes())
        };
        if let Err(e) = write() {
            tracing::warn!(path = %self.path.display(), error = %e, "could not write the embeddings cache");
        }
        self.vectors.extend(items);
    }
}

/// Embeds the texts the cache does not hold yet (in batches) and returns every text's vector.
pub async fn vectors_for(
    embedder: &Embedder,
    cache: &mut Cache,
    texts: &[String],
) -> anyhow::Result<Vec<Vec<f32>>> {
    let keys: Vec<String> = texts
        .iter()
        .map(|t| Cache::key(embedder.model(), t))
        .collect();
    let missing: Vec<usize> = (0..texts.len())
        .filter(|&i| cache.get(&keys[i]).is_none())
        .collect();
    for batch in missing.chunks(BATCH) {
        let inputs: Vec<String> = batch.iter().map(|&i| texts[i].clone()).collect();
        let vectors = embedder.embed(&inputs).await?;
        cache.insert_all(
            batch
                .iter()
                .map(|&i| keys[i].clone())
                .zip(vectors)
                .collect(),
        );
    }
    let vectors = keys
        .iter()
        .map(|k| cache.get(k).cloned().unwrap_or_default())
        .collect();
    cache.compact(&keys);
    Ok(vectors)
}

/// Reciprocal-rank fusion constant (the usual 60).
pub const RRF_K: f32 = 60.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_survives_a_reopen_skips_damaged_lines_and_compacts() {
        let dir = tempfile::tempdir().unwrap();
        let mut cache = Cache::open(dir.path(), "m/1");
        assert!(cache.is_empty());
        let keys: Vec<String> = (0..6)
            .map(|i| Cache::key("m/1", &format!("text {i}")))
            .collect();
        cache.insert_all(keys.iter().map(|k| (k.clone(), vec![0.6, 0.8])).collect());
        let file = dir.path().join("m_1.jsonl");
        let mut text = std::fs::read_to_string(&file).unwrap();
        text.push_str("{\"k\": \"half a li");
        std::fs::write(&file, text).unwrap();

        let mut cache = Cache::open(dir.path(), "m/1");
        assert_eq!(cache.len(), 6);
        assert_eq!(cache.get(&keys[0]), Some(&vec![0.6, 0.8]));
        // Two texts are left in the docs: the four others go.
        cache.compact(&keys[..2]);
        assert_eq!(cache.len(), 2);
        assert_eq!(Cache::open(dir.path(), "m/1").len(), 2);
        assert_ne!(Cache::key("m/1", "a"), Cache::key("m/2", "a"));
    }

    #[test]
    fn what_is_embedded_says_where_the_section_is() {
        let section = |parents: &[&str], heading: &str, text: &str| super::super::Section {
            heading: heading.into(),
            slug: String::new(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
            text: text.into(),
        };
        let t = section_text(
            "Card",
            &section(&["Guidelines"], "About cards", "Cards hold content."),
        );
        assert_eq!(t, "Card › Guidelines › About cards\n\nCards hold content.");
        assert_eq!(
            section_text("Card", &section(&[], "Card", "x")),
            "Card\n\nx"
        );
    }
}
