//! `.dockerignore` with Docker's rules: patterns anchored at the context root, `*` and `?`
//! within one path part, `**` across parts, `!` re-including, the last matching pattern
//! deciding, and a pattern that matches a folder excluding everything beneath it.

use globset::{Glob, GlobBuilder, GlobMatcher};

/// One line of a `.dockerignore`.
#[derive(Clone, Debug)]
struct Pattern {
    matcher: GlobMatcher,
    /// `!pattern`: re-includes what earlier patterns excluded.
    include: bool,
}

/// The rules of a `.dockerignore` file.
#[derive(Clone, Debug, Default)]
pub(crate) struct IgnoreRules {
    patterns: Vec<Pattern>,
}

/// Builds a glob with Docker's separator rules.
pub(crate) fn glob(pattern: &str) -> Result<GlobMatcher, globset::Error> {
    let glob: Glob = GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .build()?;
    Ok(glob.compile_matcher())
}

impl IgnoreRules {
    /// Reads the rules from a `.dockerignore`'s text; invalid patterns are reported by line.
    pub fn parse(text: &str) -> Result<IgnoreRules, String> {
        let mut patterns = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (include, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            // Docker cleans patterns as paths: no leading `/` or `./`, no `.` parts, no
            // trailing `/`.
            let pattern = extkit_layer::clean(pattern);
            if pattern.is_empty() {
                continue;
            }
            let matcher = glob(&pattern)
                .map_err(|error| format!("line {}: `{line}`: {error}", number + 1))?;
            patterns.push(Pattern { matcher, include });
        }
        Ok(IgnoreRules { patterns })
    }

    /// Whether some rule re-includes paths (so excluded folders must still be walked).
    pub fn has_inclusions(&self) -> bool {
        self.patterns.iter().any(|p| p.include)
    }

    /// Whether `path` (relative to the context root, `/`-separated) is left out.
    pub fn excludes(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let mut excluded = false;
        for pattern in &self.patterns {
            // A pattern matches a path when it matches the path or one of its parents.
            let matched =
                (1..=parts.len()).any(|end| pattern.matcher.is_match(parts[..end].join("/")));
            if matched {
                excluded = !pattern.include;
            }
        }
        excluded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> IgnoreRules {
        IgnoreRules::parse(text).unwrap()
    }

    #[test]
    fn patterns_are_anchored_at_the_root() {
        let rules = rules("*.md\n/build\n");
        assert!(rules.excludes("README.md"));
        assert!(!rules.excludes("docs/README.md"));
        assert!(rules.excludes("build"));
        assert!(rules.excludes("build/out/x.js"));
        assert!(!rules.excludes("src/build"));
    }

    #[test]
    fn double_stars_cross_folders() {
        let rules = rules("**/*.log\nnode_modules\n");
        assert!(rules.excludes("a.log"));
        assert!(rules.excludes("a/b/c.log"));
        assert!(rules.excludes("node_modules/x/index.js"));
        assert!(!rules.excludes("ui/node_modules/x.js"));
    }

    #[test]
    fn the_last_match_wins_and_bang_re_includes() {
        let rules = rules("docs\n!docs/keep.md\n*.md\n!README.md\n");
        assert!(rules.excludes("docs/other.txt"));
        assert!(!rules.excludes("docs/keep.md"));
        assert!(rules.excludes("CHANGES.md"));
        assert!(!rules.excludes("README.md"));
        assert!(rules.has_inclusions());
    }

    #[test]
    fn comments_blanks_and_dot_slash_are_ignored() {
        let rules = rules("# comment\n\n  ./tmp/  \n?.txt\n");
        assert!(rules.excludes("tmp/x"));
        assert!(rules.excludes("a.txt"));
        assert!(!rules.excludes("ab.txt"));
        assert!(!rules.excludes("# comment"));
    }
}
