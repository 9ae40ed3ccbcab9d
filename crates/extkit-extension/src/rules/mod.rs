//! The rules, grouped by what they look at. Each group is a set of pure functions from facts
//! to findings; [`crate::validate`] runs them and orders what they find.

pub(crate) mod binaries;
pub(crate) mod compose;
pub(crate) mod files;
pub(crate) mod host;
pub(crate) mod index;
pub(crate) mod labels;
pub(crate) mod metadata;

use crate::catalogue::default_severity;
use crate::report::{Finding, Options, Severity};

impl Finding {
    /// A finding of `rule` with the rule's default severity, for the image as a whole.
    pub(crate) fn new(rule: &'static str, path: Option<&str>, message: String) -> Finding {
        Finding {
            rule,
            severity: default_severity(rule),
            platform: None,
            path: path.map(str::to_string),
            message,
            hint: None,
        }
    }

    /// The same finding with a next step.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }

    /// The same finding with another severity than the rule's default.
    pub(crate) fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    /// The same finding about one platform's image.
    pub(crate) fn platform(mut self, platform: impl Into<String>) -> Finding {
        self.platform = Some(platform.into());
        self
    }
}

/// The severity of a Marketplace-only finding: an error only with `--marketplace`.
pub(crate) fn marketplace_severity(options: &Options) -> Severity {
    if options.marketplace {
        Severity::Error
    } else {
        Severity::Warning
    }
}
