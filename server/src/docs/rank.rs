//! In-memory BM25F: documents with three fields (title, headings, body) whose term frequencies
//! are weighted and length-normalised per field, then saturated once (so a term found in the
//! title, the heading and the body does not count three times over, as summing per-field BM25
//! scores would).
use std::collections::HashMap;

/// Title, heading path, passage text.
const FIELDS: usize = 3;

/// BM25's term-frequency saturation and length normalisation (the usual defaults).
const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Builds an [`Bm25f`] one document at a time.
#[derive(Default)]
pub struct Builder {
    terms: HashMap<String, u32>,
    /// Per term: (document, frequency in each field).
    postings: Vec<Vec<(u32, [u16; FIELDS])>>,
    lengths: Vec<[u32; FIELDS]>,
}

impl Builder {
    /// Adds a document given the analysed tokens of each field; returns its number.
    pub fn add(&mut self, fields: [&[String]; FIELDS]) -> u32 {
        let doc = self.lengths.len() as u32;
        let mut counts: HashMap<u32, [u16; FIELDS]> = HashMap::new();
        let mut lengths = [0u32; FIELDS];
        for (f, tokens) in fields.iter().enumerate() {
            lengths[f] = tokens.len() as u32;
            for token in tokens.iter() {
                let id = match self.terms.get(token) {
                    Some(&id) => id,
                    None => {
                        let id = self.terms.len() as u32;
                        self.terms.insert(token.clone(), id);
                        self.postings.push(Vec::new());
                        id
                    }
                };
                let c = counts.entry(id).or_default();
                c[f] = c[f].saturating_add(1);
            }
        }
        for (id, c) in counts {
            self.postings[id as usize].push((doc, c));
        }
        self.lengths.push(lengths);
        doc
    }

    pub fn build(self, weights: [f32; FIELDS]) -> Bm25f {
        let n = self.lengths.len().max(1) as f32;
        let mut average = [0f32; FIELDS];
        for l in &self.lengths {
            for f in 0..FIELDS {
                average[f] += l[f] as f32;
            }
        }
        for a in average.iter_mut() {
            *a /= n;
        }
        // Per document and field: weight / length normalisation, computed once.
        let factors: Vec<[f32; FIELDS]> = self
            .lengths
            .iter()
            .map(|l| {
                let mut out = [0f32; FIELDS];
                for f in 0..FIELDS {
                    if average[f] > 0.0 {
                        out[f] = weights[f] / (1.0 - B + B * l[f] as f32 / average[f]);
                    }
                }
                out
            })
            .collect();
        // Each posting's whole score, computed once (with the same arithmetic a query would
        // do, so rankings are the same to the bit): a query then adds one number per posting.
        // At 100,000 sections this made searches several times faster and postings a third
        // smaller (issue 15, `docs-eval --scale`).
        let postings = self
            .postings
            .into_iter()
            .map(|p| {
                let df = p.len() as f32;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                // Exactly as long as the list (the builder's vectors grew with slack).
                let mut scored = Vec::with_capacity(p.len());
                scored.extend(p.into_iter().map(|(doc, tf)| {
                    let factor = &factors[doc as usize];
                    let x: f32 = (0..FIELDS).map(|f| tf[f] as f32 * factor[f]).sum();
                    (doc, idf * x / (K1 + x))
                }));
                scored
            })
            .collect();
        Bm25f {
            terms: self.terms,
            postings,
            docs: self.lengths.len(),
        }
    }
}

pub struct Bm25f {
    terms: HashMap<String, u32>,
    /// Per term: (document, the term's score in it).
    postings: Vec<Vec<(u32, f32)>>,
    docs: usize,
}

impl Bm25f {
    /// Documents indexed.
    pub fn len(&self) -> usize {
        self.docs
    }

    pub fn is_empty(&self) -> bool {
        self.docs == 0
    }

    /// Adds each document's score for `terms` (distinct, analysed) to `scores`.
    #[cfg(test)]
    pub fn score(&self, terms: &[String], scores: &mut [f32]) {
        let weighted: Vec<(String, f32)> = terms.iter().map(|t| (t.clone(), 1.0)).collect();
        self.score_weighted(&weighted, scores);
    }

    /// Adds each document's score for `terms` (distinct, analysed), each term's share scaled
    /// by its weight, to `scores`.
    pub fn score_weighted(&self, terms: &[(String, f32)], scores: &mut [f32]) {
        for (term, weight) in terms {
            let Some(&id) = self.terms.get(term) else {
                continue;
            };
            for &(doc, score) in &self.postings[id as usize] {
                scores[doc as usize] += score * weight;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn rarer_terms_and_shorter_fields_score_higher() {
        let mut b = Builder::default();
        let empty: Vec<String> = Vec::new();
        b.add([&toks("card"), &empty, &toks("a card holds content")]);
        b.add([
            &toks("box"),
            &empty,
            &toks("a box holds content and more content here"),
        ]);
        b.add([&toks("modal"), &empty, &toks("a modal dialog")]);
        let index = b.build([1.0, 1.0, 1.0]);
        let mut scores = vec![0.0; index.len()];
        index.score(&toks("holds"), &mut scores);
        assert!(scores[0] > scores[1], "{scores:?}");
        assert_eq!(scores[2], 0.0);
        let mut scores = vec![0.0; index.len()];
        index.score(&toks("card content"), &mut scores);
        assert!(scores[0] > scores[1] && scores[1] > 0.0, "{scores:?}");
    }

    #[test]
    fn a_term_in_several_fields_saturates_once() {
        let mut b = Builder::default();
        let t = toks("toast");
        b.add([&t, &t, &t]);
        b.add([&toks("other"), &toks("other"), &toks("other")]);
        let index = b.build([1.0, 1.0, 1.0]);
        let mut scores = vec![0.0; 2];
        index.score(&t, &mut scores);
        // At most idf × (k1 + 1), however many fields hold the term.
        let idf = (1.0f32 + (2.0 - 1.0 + 0.5) / 1.5).ln();
        assert!(scores[0] < idf * (K1 + 1.0), "{scores:?}");
    }
}
