//! Intent of a TikTok DM or live comment (docs/contract.md §3 "Messages"):
//! `buy | question | feedback | complaint | other` with a score in [0, 1].
//!
//! The built-in [`RuleClassifier`] needs no network and answers in microseconds; the
//! optional [`LlmClassifier`] asks an OpenAI- or Anthropic-style API and falls back to the
//! rules on any error or timeout.

mod lexicon;
mod llm;
mod normalize;
mod rules;

use std::fmt;

use serde::{Deserialize, Serialize};
use shopwire_core::config::{ClassifierKind, Settings};

pub use llm::{LlmClassifier, LlmError, LlmProvider};
pub use rules::RuleClassifier;

/// What a message wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Intent {
    /// Claims or orders the product ("mine", "I'll take 2", "me lo apartas").
    Buy,
    /// Asks about price, size, shipping, availability.
    Question,
    /// An opinion: praise, taste, a price objection.
    Feedback,
    /// Something went wrong: late, broken, wrong, a refund, a warning to others.
    Complaint,
    /// Greetings, chatter, anything else.
    Other,
}

impl Intent {
    /// Every intent, in the order reports list them.
    pub const ALL: [Intent; 5] = [
        Intent::Buy,
        Intent::Question,
        Intent::Feedback,
        Intent::Complaint,
        Intent::Other,
    ];

    /// The lowercase name used in JSON and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Buy => "buy",
            Intent::Question => "question",
            Intent::Feedback => "feedback",
            Intent::Complaint => "complaint",
            Intent::Other => "other",
        }
    }

    /// The intent named `name` (any case), if it is one.
    pub fn parse(name: &str) -> Option<Intent> {
        Intent::ALL
            .into_iter()
            .find(|intent| intent.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One message's intent, how sure the classifier is, and which classifier said so.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Classification {
    /// The intent.
    pub intent: Intent,
    /// Confidence in [0, 1].
    pub score: f32,
    /// `rules`, `openai`, `anthropic`, or `rules-fallback` when the LLM failed.
    pub classifier: &'static str,
}

/// The classifier the settings ask for.
#[derive(Debug, Clone)]
pub enum Classifier {
    /// Built-in rules (the default).
    Rules(RuleClassifier),
    /// An LLM API, falling back to the rules.
    Llm(LlmClassifier),
}

impl Classifier {
    /// `INTENT_CLASSIFIER`, `LLM_API_KEY` and `LLM_API_BASE` turned into a classifier. The
    /// settings already refuse an LLM kind without key and base; should the HTTP client
    /// fail to build, the rules serve instead.
    pub fn from_settings(settings: &Settings) -> Classifier {
        let provider = match settings.intent_classifier {
            ClassifierKind::Rules => return Classifier::Rules(RuleClassifier::new()),
            ClassifierKind::OpenAi => LlmProvider::OpenAi,
            ClassifierKind::Anthropic => LlmProvider::Anthropic,
        };
        let (Some(base), Some(key)) = (&settings.llm_api_base, &settings.llm_api_key) else {
            tracing::warn!(
                %provider,
                "LLM classifier lacks LLM_API_BASE or LLM_API_KEY; using rules"
            );
            return Classifier::Rules(RuleClassifier::new());
        };
        match LlmClassifier::new(provider, base, key.clone()) {
            Ok(llm) => Classifier::Llm(llm),
            Err(e) => {
                tracing::warn!(
                    %provider,
                    error = %e,
                    "failed to build the LLM classifier; using rules"
                );
                Classifier::Rules(RuleClassifier::new())
            }
        }
    }

    /// Classify one message.
    pub async fn classify(&self, text: &str) -> Classification {
        match self {
            Classifier::Rules(rules) => rules.classify(text),
            Classifier::Llm(llm) => llm.classify(text).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        let mut map: HashMap<&str, &str> =
            HashMap::from([("DATABASE_URL", "postgres://u:pw@localhost/db")]);
        map.extend(vars.iter().copied());
        Settings::from_lookup(|k| map.get(k).map(|v| (*v).to_owned())).expect("valid settings")
    }

    #[test]
    fn intents_serialize_as_lowercase_names() {
        for intent in Intent::ALL {
            let json = serde_json::to_string(&intent).expect("serializes");
            assert_eq!(json, format!("\"{}\"", intent.as_str()));
            assert_eq!(Intent::parse(&intent.as_str().to_uppercase()), Some(intent));
        }
        assert_eq!(Intent::parse("purchase"), None);
    }

    #[test]
    fn the_default_classifier_is_the_rules() {
        assert!(matches!(
            Classifier::from_settings(&settings(&[])),
            Classifier::Rules(_)
        ));
    }

    #[test]
    fn llm_settings_build_an_llm_classifier() {
        let s = settings(&[
            ("INTENT_CLASSIFIER", "anthropic"),
            ("LLM_API_KEY", "k"),
            ("LLM_API_BASE", "http://127.0.0.1:9"),
        ]);
        match Classifier::from_settings(&s) {
            Classifier::Llm(llm) => assert_eq!(llm.provider(), LlmProvider::Anthropic),
            other => panic!("expected the LLM classifier, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_rules_classifier_answers_without_network() {
        let c = Classifier::from_settings(&settings(&[]))
            .classify("I'll take 2")
            .await;
        assert_eq!((c.intent, c.classifier), (Intent::Buy, "rules"));
    }
}
