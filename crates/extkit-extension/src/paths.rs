//! Paths inside an image, as `metadata.json` writes them and as the facts key them.

/// A path from `metadata.json` made absolute and normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ImagePath {
    /// Absolute, without `.`, `..`, doubled or trailing slashes, such as `/ui/index.html`.
    pub normalized: String,
    /// Whether `..` climbed above the root; the normalised path stops at the root, as a
    /// container's filesystem does.
    pub escapes: bool,
}

/// Makes `path` absolute (relative paths are relative to the image root) and normalised.
pub(crate) fn normalize(path: &str) -> ImagePath {
    let mut parts: Vec<&str> = Vec::new();
    let mut escapes = false;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    escapes = true;
                }
            }
            other => parts.push(other),
        }
    }
    ImagePath {
        normalized: format!("/{}", parts.join("/")),
        escapes,
    }
}

/// The UI entry file: `src` is relative to `root`, even when it starts with `/`.
pub(crate) fn join_ui(root: &str, src: &str) -> String {
    let root = normalize(root).normalized;
    normalize(&format!("{root}/{src}")).normalized
}

/// The last part of a path, by which Desktop calls a host binary.
pub(crate) fn base_name(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_become_absolute() {
        assert_eq!(normalize("ui").normalized, "/ui");
        assert_eq!(normalize("docker.svg").normalized, "/docker.svg");
        assert_eq!(normalize("./a//b/").normalized, "/a/b");
        assert!(!normalize("a/../b").escapes);
    }

    #[test]
    fn climbing_above_the_root_stops_there_and_is_noted() {
        let path = normalize("/../etc/passwd");
        assert_eq!(path.normalized, "/etc/passwd");
        assert!(path.escapes);
    }

    #[test]
    fn the_ui_entry_is_relative_to_the_root() {
        assert_eq!(join_ui("ui", "index.html"), "/ui/index.html");
        assert_eq!(join_ui("/ui", "/index.html"), "/ui/index.html");
        assert_eq!(join_ui("/ui", "./build/index.html"), "/ui/build/index.html");
    }

    #[test]
    fn base_names_ignore_folders() {
        assert_eq!(base_name("/darwin/kubectl"), "kubectl");
        assert_eq!(base_name("kubectl"), "kubectl");
    }
}
