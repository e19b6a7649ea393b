//! Why an FAQ file could not be loaded: which file, which line, what is wrong, how to fix it.

use std::fmt;

use crate::lang::Lang;

/// Where in an FAQ file a problem is: the file (or embedded source) name and a 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaqLocation {
    pub source: String,
    /// 1-based line; `None` when the parser could not tell.
    pub line: Option<u64>,
}

impl fmt::Display for FaqLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}", self.source, line),
            None => f.write_str(&self.source),
        }
    }
}

/// An FAQ file that cannot be used. Every message names the place and the fix.
#[derive(Debug, thiserror::Error)]
pub enum FaqError {
    #[error("cannot read FAQ file {path}: {source}; check the path and its permissions")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "FAQ file {path} has extension `{extension}`: use .csv (header id,question,answer,lang[,alt_questions]) or .yaml/.yml (a list of entries)"
    )]
    UnsupportedFormat { path: String, extension: String },

    #[error(
        "{at}: the header has no `{column}` column (found: {found}); the header must be id,question,answer,lang with an optional alt_questions"
    )]
    MissingColumn {
        at: FaqLocation,
        column: &'static str,
        found: String,
    },

    #[error(
        "{at}: malformed CSV ({detail}); quote fields that contain commas or line breaks with \"...\""
    )]
    Csv { at: FaqLocation, detail: String },

    #[error(
        "{at}: malformed YAML ({detail}); the file must be a list of entries with id, question, answer, lang and optional alt_questions"
    )]
    Yaml { at: FaqLocation, detail: String },

    #[error("{at}: unknown lang `{value}`; use zh (Mandarin), yue (Cantonese) or en (English)")]
    UnknownLang { at: FaqLocation, value: String },

    #[error(
        "{at}: `{field}` is empty for entry `{id}`; write a non-empty {field} or delete the entry"
    )]
    EmptyField {
        at: FaqLocation,
        field: &'static str,
        id: String,
    },

    #[error(
        "{at}: entry `{id}` in lang `{lang}` is already defined at {first}; an id may appear once per language: merge the two or rename one"
    )]
    DuplicateEntry {
        at: FaqLocation,
        id: String,
        lang: Lang,
        first: FaqLocation,
    },

    #[error("cannot write {path}: {source}; check that the directory exists and is writable")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{at}: bad passage ({detail}); each line of a passages file is one JSON object with id, source, title, text and lang: re-create it with `hotline kb import DOC.md --into FAQ`"
    )]
    Passages { at: FaqLocation, detail: String },

    #[error("{source_name} holds no FAQ entries; add at least one row under the header")]
    NoEntries { source_name: String },

    #[error(
        "cannot load the built-in Traditional/Simplified Chinese tables ({detail}); this is a build problem: rebuild with ferrous-opencc's default features"
    )]
    ScriptTables { detail: String },
}
