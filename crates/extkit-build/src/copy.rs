//! `COPY` and `ADD` with Docker's rules: a folder's content (not the folder) goes to the
//! destination, a file goes into a destination ending in `/` or to the destination itself,
//! globs match within one path part (`**` across), the source path itself is followed when it
//! is a link while links inside copied folders are kept, and local tar archives given to `ADD`
//! are extracted.

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::Arc;

use tracing::debug;

use crate::error::{BrokenLink, BuildError, Place};
use crate::ignore::glob;
use crate::tree::{Content, Node, NodeKind, Tree, Unresolved, clean, join};

/// How entries are copied.
#[derive(Clone, Debug, Default)]
pub(crate) struct CopyOptions {
    /// `--chmod`: the mode of every copied file and folder.
    pub chmod: Option<u32>,
    /// `--chown` (numeric): the owner of every copied entry; otherwise entries from the context
    /// are root's and entries from stages and images keep theirs.
    pub chown: Option<(u64, u64)>,
    /// Whether the source is the build context (whose files are root's).
    pub from_context: bool,
    /// `ADD`: extract local tar archives.
    pub extract: bool,
}

/// Where entries go: the destination as written (absolute), and the stage's file system so
/// far, to tell whether the destination is an existing folder and to keep its parents as they
/// are.
pub(crate) struct Destination<'a> {
    /// The absolute destination, trailing `/` kept.
    pub path: String,
    /// The stage's file system as known.
    pub existing: &'a Tree,
}

impl Destination<'_> {
    /// Whether sources go into the destination rather than becoming it.
    pub fn is_folder(&self) -> bool {
        self.path.ends_with('/')
            || self.path.ends_with("/.")
            || self
                .existing
                .resolve(&self.path)
                .and_then(|p| self.existing.get(&p).cloned())
                .is_some_and(|n| n.is_directory())
            || clean(&self.path).is_empty()
    }
}

/// The entries of one `COPY`/`ADD` layer, being collected.
pub(crate) struct CopyLayer {
    tree: Tree,
    /// Paths set on purpose (the rest are parents added on the way).
    explicit: BTreeSet<String>,
}

/// Whether a source contains glob characters.
pub(crate) fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

impl CopyLayer {
    /// An empty layer.
    pub fn new() -> CopyLayer {
        CopyLayer {
            tree: Tree::new(),
            explicit: BTreeSet::new(),
        }
    }

    /// The entries, with parents that already exist in the stage kept as they are.
    pub fn finish(mut self, existing: &Tree) -> Tree {
        let implied: Vec<String> = self
            .tree
            .entries()
            .filter(|(path, node)| node.is_directory() && !self.explicit.contains(*path))
            .map(|(path, _)| path.to_string())
            .collect();
        for path in implied {
            if let Some(node) = existing.get(&path).filter(|n| n.is_directory()) {
                self.tree.insert(&path, node.clone());
            }
        }
        self.tree
    }

    fn put(&mut self, path: &str, mut node: Node, options: &CopyOptions) {
        if let Some(mode) = options.chmod {
            node.mode = mode;
        }
        if let Some((uid, gid)) = options.chown {
            node.uid = uid;
            node.gid = gid;
        } else if options.from_context {
            node.uid = 0;
            node.gid = 0;
        }
        let path = clean(path);
        self.explicit.insert(path.clone());
        self.tree.insert(&path, node);
    }

    fn folder(&mut self, path: &str, options: &CopyOptions, existing: &Tree) {
        let path = clean(path);
        if path.is_empty() || self.explicit.contains(&path) {
            return;
        }
        let node = match existing.get(&path) {
            Some(node) if node.is_directory() => node.clone(),
            _ => {
                let mut node = Node::directory(0o755);
                if let Some((uid, gid)) = options.chown {
                    node.uid = uid;
                    node.gid = gid;
                }
                node
            }
        };
        self.explicit.insert(path.clone());
        self.tree.insert(&path, node);
    }

    /// Copies the sources `patterns` (expanded) of `source` to `destination`.
    #[allow(clippy::too_many_arguments)]
    pub fn copy(
        &mut self,
        place: &Place,
        source: &Tree,
        origin: &str,
        patterns: &[String],
        destination: &Destination<'_>,
        options: &CopyOptions,
    ) -> Result<(), BuildError> {
        let mut matches: Vec<(String, String)> = Vec::new();
        for pattern in patterns {
            let cleaned = clean(pattern);
            if is_glob(&cleaned) {
                let matcher = glob(&cleaned).map_err(|error| {
                    place.invalid(format!("`{pattern}` is not a valid pattern: {error}"))
                })?;
                let found: Vec<(String, String)> = source
                    .entries()
                    .filter(|(path, _)| matcher.is_match(path))
                    .filter_map(|(path, _)| source.resolve(path).map(|r| (path.to_string(), r)))
                    .collect();
                debug!(pattern, matches = found.len(), "matched a glob");
                matches.extend(found);
            } else {
                let resolved = source.resolve_or_explain(&cleaned).map_err(|why| {
                    unresolved(
                        place,
                        source,
                        pattern,
                        &cleaned,
                        origin,
                        options.from_context,
                        why,
                    )
                })?;
                matches.push((cleaned, resolved));
            }
        }
        // Docker wants the trailing `/` whenever several sources are named; a glob that
        // happens to match several files copies them into the destination as a folder.
        let into_folder = destination.is_folder() || matches.len() > 1;
        if patterns.len() > 1 && !destination.is_folder() {
            return Err(place.invalid(format!(
                "with several sources the destination `{}` must be a folder ending in `/`",
                destination.path
            )));
        }
        for (name, resolved) in matches {
            let node = if resolved.is_empty() {
                Node::directory(0o755)
            } else {
                source
                    .get(&resolved)
                    .cloned()
                    .expect("resolved paths exist")
            };
            match &node.kind {
                NodeKind::Directory => {
                    self.folder(&destination.path, options, destination.existing);
                    for (path, child) in source.beneath(&resolved) {
                        let relative = if resolved.is_empty() {
                            path
                        } else {
                            &path[resolved.len() + 1..]
                        };
                        self.put(&join(&destination.path, relative), child.clone(), options);
                    }
                }
                NodeKind::File(content) if options.extract && is_archive(place, content)? => {
                    self.folder(&destination.path, options, destination.existing);
                    self.extract(place, &name, content, &destination.path, options)?;
                }
                _ => {
                    let base = name.rsplit('/').next().unwrap_or(&name);
                    let target = if into_folder {
                        self.folder(&destination.path, options, destination.existing);
                        join(&destination.path, base)
                    } else {
                        clean(&destination.path)
                    };
                    self.put(&target, node.clone(), options);
                }
            }
        }
        Ok(())
    }

    /// Adds an inline file (a heredoc) named `name` when the destination is a folder.
    pub fn inline(
        &mut self,
        name: &str,
        content: String,
        destination: &Destination<'_>,
        options: &CopyOptions,
    ) {
        let content = Arc::new(content.into_bytes());
        self.add_bytes(name, content, 0o644, destination, options);
    }

    /// Adds a file made of `content`, named `name` when the destination is a folder.
    pub fn add_bytes(
        &mut self,
        name: &str,
        content: Arc<Vec<u8>>,
        mode: u32,
        destination: &Destination<'_>,
        options: &CopyOptions,
    ) {
        let target = if destination.is_folder() {
            self.folder(&destination.path, options, destination.existing);
            join(&destination.path, name)
        } else {
            clean(&destination.path)
        };
        let node = Node {
            kind: NodeKind::File(Content::Memory(content)),
            mode,
            uid: 0,
            gid: 0,
        };
        self.put(&target, node, options);
    }

    fn extract(
        &mut self,
        place: &Place,
        name: &str,
        content: &Content,
        destination: &str,
        options: &CopyOptions,
    ) -> Result<(), BuildError> {
        let bytes = content
            .read()
            .map_err(|e| place.invalid(format!("cannot read an archive: {e}")))?;
        let mut extracted = Tree::new();
        crate::image::apply_layer(&mut extracted, &bytes[..], "").map_err(|error| {
            crate::image::layer_error(place, &format!("the archive `{name}`"), error, |error| {
                place.invalid(format!("cannot extract an archive: {error}"))
            })
        })?;
        for (path, node) in extracted.entries() {
            let mut node = node.clone();
            if let Some((uid, gid)) = options.chown {
                node.uid = uid;
                node.gid = gid;
            }
            let path = join(destination, path);
            self.explicit.insert(path.clone());
            self.tree.insert(&path, node);
        }
        Ok(())
    }
}

/// The error for a source that leads nowhere: missing, a FIFO, socket or device left out of
/// the context, or a link to nothing.
fn unresolved(
    place: &Place,
    source: &Tree,
    pattern: &str,
    cleaned: &str,
    origin: &str,
    from_context: bool,
    why: Unresolved,
) -> BuildError {
    let special = match &why {
        Unresolved::Missing { path } | Unresolved::BrokenLink { missing: path, .. } => {
            source.special(path)
        }
        Unresolved::Loop => None,
    };
    if let Some(kind) = special {
        return BuildError::SourceNotFileOrFolder {
            file: place.file.clone(),
            line: place.line,
            source_path: pattern.to_string(),
            kind,
        };
    }
    match why {
        Unresolved::BrokenLink {
            link,
            target,
            outside,
            ..
        } => BuildError::SourceLinkBroken {
            file: place.file.clone(),
            line: place.line,
            source_path: pattern.to_string(),
            link: Box::new(BrokenLink {
                through: (link != cleaned).then_some(link),
                target,
                origin: origin.to_string(),
                outside_context: outside && from_context,
            }),
        },
        Unresolved::Missing { .. } | Unresolved::Loop => BuildError::SourceMissing {
            file: place.file.clone(),
            line: place.line,
            source_path: pattern.to_string(),
            origin: origin.to_string(),
        },
    }
}

/// Whether a file `ADD` would extract: a tar, plain or gzip- or zstd-compressed.
fn is_archive(place: &Place, content: &Content) -> Result<bool, BuildError> {
    let head = content
        .head(1024)
        .map_err(|e| place.invalid(format!("cannot read a source: {e}")))?;
    let tar_magic = |bytes: &[u8]| bytes.len() > 262 && &bytes[257..262] == b"ustar";
    if head.starts_with(&[0x1f, 0x8b]) {
        let mut inner = Vec::new();
        let _ = flate2::read::GzDecoder::new(&head[..])
            .take(512)
            .read_to_end(&mut inner);
        return Ok(tar_magic(&inner));
    }
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        let mut inner = Vec::new();
        if let Ok(decoder) = zstd::stream::read::Decoder::new(&head[..]) {
            let _ = decoder.take(512).read_to_end(&mut inner);
        }
        return Ok(tar_magic(&inner));
    }
    if head.starts_with(b"BZh") || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        // TODO(build): extract bzip2 and xz archives as Docker's ADD does.
        return Err(place.unsupported("`ADD` of a bzip2 or xz archive"));
    }
    Ok(tar_magic(&head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> Place {
        Place {
            file: "Dockerfile".into(),
            line: 3,
        }
    }

    fn file(text: &str, mode: u32) -> Node {
        Node {
            kind: NodeKind::File(Content::Memory(Arc::new(text.as_bytes().to_vec()))),
            mode,
            uid: 7,
            gid: 8,
        }
    }

    fn context() -> Tree {
        let mut tree = Tree::new();
        tree.insert("ui", Node::directory(0o700));
        tree.insert("ui/index.html", file("<html>", 0o644));
        tree.insert("ui/js/app.js", file("js", 0o600));
        tree.insert("bin/amd64/tool", file("x86", 0o755));
        tree.insert("bin/arm64/tool", file("arm", 0o755));
        tree.insert("a.txt", file("a", 0o644));
        tree.insert("b.txt", file("b", 0o644));
        tree.insert(
            "link",
            Node {
                kind: NodeKind::Symlink("a.txt".into()),
                mode: 0o777,
                uid: 0,
                gid: 0,
            },
        );
        tree
    }

    fn run(
        patterns: &[&str],
        destination: &str,
        options: CopyOptions,
    ) -> Result<Vec<(String, u32, u64)>, BuildError> {
        let existing = Tree::new();
        let mut layer = CopyLayer::new();
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        layer.copy(
            &place(),
            &context(),
            "the build context",
            &patterns,
            &Destination {
                path: destination.into(),
                existing: &existing,
            },
            &options,
        )?;
        Ok(layer
            .finish(&existing)
            .entries()
            .map(|(p, n)| (p.to_string(), n.mode, n.uid))
            .collect())
    }

    fn context_options() -> CopyOptions {
        CopyOptions {
            from_context: true,
            ..CopyOptions::default()
        }
    }

    #[test]
    fn a_folder_copies_its_content() {
        let entries = run(&["ui"], "/app", context_options()).unwrap();
        assert_eq!(
            entries,
            vec![
                ("app".into(), 0o755, 0),
                ("app/index.html".into(), 0o644, 0),
                ("app/js".into(), 0o755, 0),
                ("app/js/app.js".into(), 0o600, 0),
            ]
        );
    }

    #[test]
    fn a_file_goes_into_a_folder_or_becomes_the_destination() {
        let into = run(&["a.txt"], "/x/", context_options()).unwrap();
        assert_eq!(into.last().unwrap().0, "x/a.txt");
        let renamed = run(&["a.txt"], "/x", context_options()).unwrap();
        assert_eq!(renamed, vec![("x".into(), 0o644, 0)]);
    }

    #[test]
    fn the_source_link_is_followed_under_its_own_name() {
        let entries = run(&["link"], "/d/", context_options()).unwrap();
        assert_eq!(entries[1].0, "d/link");
        assert_eq!(entries[1].1, 0o644);
    }

    #[test]
    fn globs_match_one_part_and_several_matches_need_a_folder() {
        let entries = run(&["*.txt"], "/d/", context_options()).unwrap();
        let paths: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(paths, vec!["d", "d/a.txt", "d/b.txt"]);
        let error = run(&["a.txt", "b.txt"], "/d", context_options()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Dockerfile:3: with several sources the destination `/d` must be a folder ending in `/`"
        );
        let tools = run(&["bin/*/tool"], "/t/", context_options()).unwrap();
        assert_eq!(tools.len(), 2);
    }

    #[test]
    fn chmod_and_chown_apply_to_every_copied_entry() {
        let options = CopyOptions {
            chmod: Some(0o750),
            chown: Some((1000, 1001)),
            from_context: true,
            extract: false,
        };
        let entries = run(&["ui"], "/app/", options).unwrap();
        assert!(
            entries
                .iter()
                .skip(1)
                .all(|(_, mode, uid)| *mode == 0o750 && *uid == 1000)
        );
    }

    #[test]
    fn stage_owners_are_kept_and_missing_sources_refused() {
        let entries = run(&["a.txt"], "/a", CopyOptions::default()).unwrap();
        assert_eq!(entries, vec![("a".into(), 0o644, 7)]);
        let error = run(&["nope"], "/a", context_options()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Dockerfile:3: `nope` is not in the build context"
        );
    }
}
