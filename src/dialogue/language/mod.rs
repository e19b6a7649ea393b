//! How the dialogue reads caller text: which language a turn is in, and the folding
//! (Cantonese written forms, English stems, ASR homophones and synonyms) that turns a question
//! into match terms. Shared by retrieval (`knowledge/`) and the policy layer (`policy/`).

pub(super) mod cantonese_forms;
pub(super) mod detect;
pub(super) mod domain_folds;
pub(super) mod english_words;
pub(super) mod match_text;
pub(super) mod phrase_rewriter;
