//! The knowledge base: the articles a team's admins keep, and which of them a customer
//! waiting for an agent is shown.

use super::error::RuleError;
use super::event::is_web_url;
use super::ids::ArticleId;
use serde::{Deserialize, Serialize};

/// Most articles one customer message brings as suggestions.
pub const MAX_SUGGESTIONS: usize = 3;
/// Longest article title, in bytes.
pub const MAX_TITLE_BYTES: usize = 200;
/// Longest article text, in bytes.
pub const MAX_BODY_BYTES: usize = 50_000;

/// An article as a suggestion carries it: enough to show it and open it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub article: ArticleId,
    pub title: String,
    pub url: String,
}

/// An article as an admin writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleDraft {
    pub title: String,
    pub body: String,
    /// Where the full article is read (the help centre).
    pub url: String,
}

impl ArticleDraft {
    /// A title (at most [`MAX_TITLE_BYTES`]), some text (at most [`MAX_BODY_BYTES`]) and
    /// an http(s) URL.
    pub fn check(&self) -> Result<(), RuleError> {
        let title_ok = !self.title.trim().is_empty() && self.title.len() <= MAX_TITLE_BYTES;
        let body_ok = !self.body.trim().is_empty() && self.body.len() <= MAX_BODY_BYTES;
        if title_ok && body_ok && is_web_url(&self.url) {
            Ok(())
        } else {
            Err(RuleError::InvalidArticle)
        }
    }
}
