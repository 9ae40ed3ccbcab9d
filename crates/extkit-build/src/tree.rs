//! A file system in memory: the build context, a stage's result or an image's layers, as
//! `COPY` reads them. File content stays on disk until a layer needs it.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

/// Where a file's bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Content {
    /// A file on disk, read when a layer is made.
    Disk(PathBuf),
    /// Bytes in memory.
    Memory(Arc<Vec<u8>>),
}

impl Content {
    /// The bytes.
    pub fn read(&self) -> std::io::Result<Vec<u8>> {
        match self {
            Content::Disk(path) => Ok(fs_err::read(path)?),
            Content::Memory(bytes) => Ok(bytes.as_ref().clone()),
        }
    }

    /// The first bytes, up to `limit`.
    pub fn head(&self, limit: usize) -> std::io::Result<Vec<u8>> {
        match self {
            Content::Disk(path) => {
                let mut bytes = Vec::with_capacity(limit);
                fs_err::File::open(path)?
                    .take(limit as u64)
                    .read_to_end(&mut bytes)?;
                Ok(bytes)
            }
            Content::Memory(bytes) => Ok(bytes[..limit.min(bytes.len())].to_vec()),
        }
    }
}

/// The type of a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NodeKind {
    /// A regular file.
    File(Content),
    /// A folder.
    Directory,
    /// A symbolic link with its target as stored.
    Symlink(String),
}

/// A file, folder or link with its owner and permission bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    /// Its type.
    pub kind: NodeKind,
    /// Permission bits, `0o7777` at most.
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
}

impl Node {
    /// A folder owned by root.
    pub fn directory(mode: u32) -> Node {
        Node {
            kind: NodeKind::Directory,
            mode,
            uid: 0,
            gid: 0,
        }
    }

    /// Whether it is a folder.
    pub fn is_directory(&self) -> bool {
        self.kind == NodeKind::Directory
    }
}

/// Paths (clean, relative, `/`-separated) to nodes; the root itself is implied.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Tree {
    nodes: BTreeMap<String, Node>,
    /// FIFOs, sockets and devices left out (of a context), with what each is, to name them
    /// when a `COPY` asks for one.
    specials: BTreeMap<String, &'static str>,
}

/// Cleans a path inside a tree: no leading `/`, no `.` parts, `..` resolved without leaving
/// the root; the same cleaning as for paths read out of layers.
pub(crate) use extkit_layer::clean;

/// `parent/name`, or `name` at the root.
pub(crate) fn join(parent: &str, name: &str) -> String {
    clean(&format!("{parent}/{name}"))
}

impl Tree {
    /// An empty tree.
    pub fn new() -> Tree {
        Tree::default()
    }

    /// How many entries it has.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Sets `path` to `node`, adding missing parent folders (0755, root), and replacing what
    /// was beneath `path` when it stops being a folder.
    pub fn insert(&mut self, path: &str, node: Node) {
        let path = clean(path);
        if path.is_empty() {
            return;
        }
        let mut parent = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            if !parent.is_empty() {
                parent.push('/');
            }
            parent.push_str(part);
            match self.nodes.get(&parent) {
                Some(existing) if existing.is_directory() => {}
                _ => {
                    self.nodes.insert(parent.clone(), Node::directory(0o755));
                }
            }
        }
        if !node.is_directory() {
            self.remove_beneath(&path);
        }
        self.nodes.insert(path, node);
    }

    /// Notes that `path` is a FIFO, socket or device (`kind`, such as `a FIFO`), which the
    /// tree leaves out.
    pub fn insert_special(&mut self, path: &str, kind: &'static str) {
        self.specials.insert(clean(path), kind);
    }

    /// What `path` is when it is a FIFO, socket or device left out of the tree.
    pub fn special(&self, path: &str) -> Option<&'static str> {
        self.specials.get(&clean(path)).copied()
    }

    /// Every special file left out, with what it is, in path order.
    pub fn specials(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.specials
            .iter()
            .map(|(path, kind)| (path.as_str(), *kind))
    }

    /// The node at `path`, without following links.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(&clean(path))
    }

    /// Removes `path` and everything beneath it.
    pub fn remove(&mut self, path: &str) {
        let path = clean(path);
        self.remove_beneath(&path);
        self.nodes.remove(&path);
    }

    /// Removes everything beneath `path`, keeping `path`.
    pub fn remove_beneath(&mut self, path: &str) {
        let beneath: Vec<String> = self.beneath(path).map(|(p, _)| p.to_string()).collect();
        for path in beneath {
            self.nodes.remove(&path);
        }
    }

    /// Every entry beneath the folder `path` (the whole tree for the root), in path order.
    pub fn beneath<'a>(&'a self, path: &str) -> Box<dyn Iterator<Item = (&'a str, &'a Node)> + 'a> {
        let path = clean(path);
        if path.is_empty() {
            return Box::new(self.nodes.iter().map(|(p, n)| (p.as_str(), n)));
        }
        // `/` sorts just before `0`, so the children of `a` are the keys from `a/` to `a0`.
        let start = format!("{path}/");
        let end = format!("{path}0");
        Box::new(self.nodes.range(start..end).map(|(p, n)| (p.as_str(), n)))
    }

    /// Every entry, in path order.
    pub fn entries(&self) -> impl Iterator<Item = (&str, &Node)> {
        self.nodes.iter().map(|(p, n)| (p.as_str(), n))
    }

    /// Applies `other` on top, as a layer: its entries replace these.
    pub fn overlay(&mut self, other: &Tree) {
        for (path, node) in other.entries() {
            self.insert(path, node.clone());
        }
    }

    /// `path` with every symbolic link on the way followed inside the tree (absolute targets
    /// from the tree's root); `None` when it leads nowhere or loops.
    pub fn resolve(&self, path: &str) -> Option<String> {
        self.resolve_or_explain(path).ok()
    }

    /// Like [`Tree::resolve`], saying why a path leads nowhere.
    pub fn resolve_or_explain(&self, path: &str) -> Result<String, Unresolved> {
        // Each part waiting to be walked, with the link whose target it comes from.
        let mut pending: Vec<(String, Option<usize>)> = clean(path)
            .split('/')
            .rev()
            .map(|part| (part.to_string(), None))
            .collect();
        // The links followed: path, target, and whether the target climbed above the root.
        let mut links: Vec<(String, String, bool)> = Vec::new();
        let mut current = String::new();
        while let Some((part, origin)) = pending.pop() {
            if part.is_empty() {
                continue;
            }
            let next = join(&current, &part);
            match self.nodes.get(&next).map(|n| &n.kind) {
                Some(NodeKind::Symlink(target)) => {
                    if links.len() >= 40 {
                        return Err(Unresolved::Loop);
                    }
                    links.push((next, target.clone(), target.starts_with('/')));
                    if target.starts_with('/') {
                        current.clear();
                    }
                    let index = links.len() - 1;
                    for piece in target.split('/').rev() {
                        pending.push((piece.to_string(), Some(index)));
                    }
                }
                Some(_) => current = next,
                None if part == ".." => {
                    if current.is_empty()
                        && let Some(index) = origin
                    {
                        links[index].2 = true;
                    }
                    current = clean(&format!("{current}/.."));
                }
                None => {
                    return Err(match origin {
                        Some(index) => {
                            let (link, target, outside) = links.swap_remove(index);
                            Unresolved::BrokenLink {
                                link,
                                target,
                                outside,
                                missing: next,
                            }
                        }
                        None => Unresolved::Missing { path: next },
                    });
                }
            }
        }
        Ok(current)
    }
}

/// Why a path leads nowhere in a tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Unresolved {
    /// Nothing is at `path` (links on the way followed).
    Missing {
        /// The path, links followed, up to the missing part.
        path: String,
    },
    /// A symbolic link on the way points to nothing.
    BrokenLink {
        /// The link's path.
        link: String,
        /// Its target as stored.
        target: String,
        /// Whether the target is absolute or climbs above the root with `..`: for a context,
        /// a link to somewhere outside it.
        outside: bool,
        /// The path found missing, links followed.
        missing: String,
    },
    /// Links lead to links more than 40 times.
    Loop,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Node {
        Node {
            kind: NodeKind::File(Content::Memory(Arc::new(text.as_bytes().to_vec()))),
            mode: 0o644,
            uid: 0,
            gid: 0,
        }
    }

    fn link(target: &str) -> Node {
        Node {
            kind: NodeKind::Symlink(target.into()),
            mode: 0o777,
            uid: 0,
            gid: 0,
        }
    }

    #[test]
    fn parents_are_added_and_beneath_lists_descendants_only() {
        let mut tree = Tree::new();
        tree.insert("/a/b/c.txt", file("c"));
        tree.insert("a0", file("x"));
        tree.insert("a.txt", file("y"));
        let paths: Vec<&str> = tree.beneath("a").map(|(p, _)| p).collect();
        assert_eq!(paths, vec!["a/b", "a/b/c.txt"]);
        assert!(tree.get("a").unwrap().is_directory());
    }

    #[test]
    fn a_file_replacing_a_folder_removes_its_content() {
        let mut tree = Tree::new();
        tree.insert("a/b", file("b"));
        tree.insert("a", file("a"));
        assert_eq!(tree.entries().count(), 1);
    }

    #[test]
    fn links_are_followed_inside_the_tree() {
        let mut tree = Tree::new();
        tree.insert("real/file", file("f"));
        tree.insert("rel", link("real"));
        tree.insert("abs", link("/real/file"));
        tree.insert("up/link", link("../real"));
        tree.insert("loop", link("loop"));
        assert_eq!(tree.resolve("rel/file").as_deref(), Some("real/file"));
        assert_eq!(tree.resolve("abs").as_deref(), Some("real/file"));
        assert_eq!(tree.resolve("up/link/file").as_deref(), Some("real/file"));
        assert_eq!(tree.resolve("loop"), None);
        assert_eq!(tree.resolve("missing"), None);
        assert_eq!(tree.resolve("/").as_deref(), Some(""));
    }

    #[test]
    fn a_broken_link_on_the_way_is_named() {
        let mut tree = Tree::new();
        tree.insert("real/file", file("f"));
        tree.insert("passwd", link("/etc/passwd"));
        tree.insert("up", link("../../outside"));
        tree.insert("dir", link("real"));
        tree.insert("real/dangling", link("nope"));
        assert_eq!(
            tree.resolve_or_explain("passwd"),
            Err(Unresolved::BrokenLink {
                link: "passwd".into(),
                target: "/etc/passwd".into(),
                outside: true,
                missing: "etc".into(),
            })
        );
        assert_eq!(
            tree.resolve_or_explain("up/x"),
            Err(Unresolved::BrokenLink {
                link: "up".into(),
                target: "../../outside".into(),
                outside: true,
                missing: "outside".into(),
            })
        );
        assert_eq!(
            tree.resolve_or_explain("dir/dangling"),
            Err(Unresolved::BrokenLink {
                link: "real/dangling".into(),
                target: "nope".into(),
                outside: false,
                missing: "real/nope".into(),
            })
        );
        assert_eq!(
            tree.resolve_or_explain("dir/missing"),
            Err(Unresolved::Missing {
                path: "real/missing".into()
            })
        );
    }
}
