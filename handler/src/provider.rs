//! The webhook providers ebhook knows, and the facts about each that do not depend on a request.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    Zendesk,
    Github,
    Twilio,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::Zendesk, Provider::Github, Provider::Twilio];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Zendesk => "zendesk",
            Self::Github => "github",
            Self::Twilio => "twilio",
        }
    }

    /// Methods the provider can send. Zendesk trigger webhooks may use any of these; Twilio
    /// webhooks may be configured for GET; GitHub only POSTs.
    pub fn allowed_methods(self) -> &'static [&'static str] {
        match self {
            Self::Zendesk => &["POST", "PUT", "PATCH", "GET", "DELETE"],
            Self::Github => &["POST"],
            Self::Twilio => &["POST", "GET"],
        }
    }

    pub fn allows_method(self, method: &str) -> bool {
        self.allowed_methods().contains(&method)
    }

    /// The default EventBridge `Source` for this provider's events.
    pub fn default_source(self) -> String {
        format!("ebhook.{}", self.as_str())
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown provider {0:?}: use one of zendesk, github, twilio")]
pub struct UnknownProvider(pub String);

impl FromStr for Provider {
    type Err = UnknownProvider;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownProvider(s.to_owned()))
    }
}
