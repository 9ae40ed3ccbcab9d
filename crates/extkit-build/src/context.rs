//! The build context (and named contexts): a folder read into a [`Tree`], less what its
//! `.dockerignore` leaves out. Content stays on disk; owners are root, and modes are kept as
//! git keeps them (`0755` for folders and files any can execute, `0644` for other files), so
//! the umask a checkout was made under does not change the image.

use std::path::Path;

use tracing::debug;

use crate::error::BuildError;
use crate::ignore::IgnoreRules;
use crate::tree::{Content, Node, NodeKind, Tree};

/// Reads the folder `root` into a tree, honouring `root/.dockerignore` when there is one.
pub(crate) fn read_context(root: &Path) -> Result<Tree, BuildError> {
    let context_error = |path: &Path, source: std::io::Error| BuildError::Context {
        path: path.to_path_buf(),
        source,
    };
    let ignore_file = root.join(".dockerignore");
    // The type is checked before opening: opening a FIFO would wait for a writer forever.
    match fs_err::metadata(&ignore_file) {
        Ok(metadata) if !metadata.is_file() => {
            return Err(BuildError::IgnoreFileNotAFile {
                path: ignore_file,
                kind: kind_of(&metadata.file_type()),
            });
        }
        _ => {}
    }
    let rules = match fs_err::read_to_string(&ignore_file) {
        Ok(text) => IgnoreRules::parse(&text).map_err(|reason| BuildError::InvalidOption {
            option: "`.dockerignore`".into(),
            value: ignore_file.display().to_string(),
            reason,
        })?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => IgnoreRules::default(),
        Err(error) => return Err(context_error(&ignore_file, error)),
    };
    let metadata = fs_err::metadata(root).map_err(|e| context_error(root, e))?;
    if !metadata.is_dir() {
        return Err(context_error(
            root,
            std::io::Error::new(std::io::ErrorKind::NotADirectory, "not a folder"),
        ));
    }
    let mut tree = Tree::new();
    walk(root, "", true, &rules, &mut tree)?;
    debug!(context = %root.display(), entries = tree.len(), "read the build context");
    Ok(tree)
}

/// Reads `folder`, at `relative` in the context, into `tree`; `utf8` says whether `relative`
/// is the folder's true name rather than a lossy one.
fn walk(
    folder: &Path,
    relative: &str,
    utf8: bool,
    rules: &IgnoreRules,
    tree: &mut Tree,
) -> Result<(), BuildError> {
    let context_error = |source: std::io::Error| BuildError::Context {
        path: folder.to_path_buf(),
        source,
    };
    let mut children: Vec<_> = fs_err::read_dir(folder)
        .map_err(context_error)?
        .collect::<Result<_, _>>()
        .map_err(context_error)?;
    children.sort_by_key(|entry| entry.file_name());
    for child in children {
        let file_name = child.file_name();
        let name = file_name.to_string_lossy();
        let path = if relative.is_empty() {
            name.into_owned()
        } else {
            format!("{relative}/{name}")
        };
        let excluded = rules.excludes(&path);
        // Layers name entries in UTF-8: a lossy name would merge `a\xff` and `a\xfe` into one
        // entry and lose a file, so such a name is refused unless it is left out.
        let name_utf8 = utf8 && file_name.to_str().is_some();
        if !excluded && !name_utf8 {
            return Err(BuildError::NameNotUtf8 { path });
        }
        let metadata = fs_err::symlink_metadata(child.path()).map_err(context_error)?;
        let mode = mode_of(&metadata);
        if metadata.is_dir() {
            if excluded && !rules.has_inclusions() {
                continue;
            }
            let before = tree.len();
            walk(&child.path(), &path, name_utf8, rules, tree)?;
            // An excluded folder stays only as the parent of something re-included.
            if !excluded || tree.len() > before {
                tree.insert(&path, Node::directory(mode));
            }
            continue;
        }
        if excluded {
            continue;
        }
        let kind = if metadata.file_type().is_symlink() {
            let target = fs_err::read_link(child.path()).map_err(context_error)?;
            match target.to_str() {
                Some(target) => NodeKind::Symlink(target.to_string()),
                None => {
                    return Err(BuildError::LinkTargetNotUtf8 {
                        path,
                        target: target.to_string_lossy().into_owned(),
                    });
                }
            }
        } else if metadata.is_file() {
            NodeKind::File(Content::Disk(child.path()))
        } else {
            debug!(path, "skipped a special file of the context");
            tree.insert_special(&path, kind_of(&metadata.file_type()));
            continue;
        };
        tree.insert(
            &path,
            Node {
                kind,
                mode,
                uid: 0,
                gid: 0,
            },
        );
    }
    Ok(())
}

/// What an entry that is not a regular file is, for messages: `a FIFO`, `a folder`…
pub(crate) fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return "a device";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

/// The mode git would check the entry out with under umask 022: a umask only takes bits away,
/// so this is the same whatever umask made the files. `COPY --chmod` sets any other mode.
#[cfg(unix)]
fn mode_of(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    let executable = metadata.permissions().mode() & 0o111 != 0;
    if metadata.is_dir() || executable {
        0o755
    } else {
        0o644
    }
}

#[cfg(not(unix))]
fn mode_of(metadata: &std::fs::Metadata) -> u32 {
    if metadata.is_dir() { 0o755 } else { 0o644 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dockerignore_is_honoured_with_re_inclusions() {
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path();
        for path in [
            "ui/index.html",
            "ui/node_modules/x.js",
            "docs/a.md",
            "docs/keep.md",
            "README.md",
        ] {
            let file = root.join(path);
            fs_err::create_dir_all(file.parent().unwrap()).unwrap();
            fs_err::write(&file, path).unwrap();
        }
        fs_err::write(
            root.join(".dockerignore"),
            "**/node_modules\ndocs\n!docs/keep.md\n*.md\n",
        )
        .unwrap();
        let tree = read_context(root).unwrap();
        let paths: Vec<&str> = tree.entries().map(|(p, _)| p).collect();
        assert_eq!(
            paths,
            vec![
                ".dockerignore",
                "docs",
                "docs/keep.md",
                "ui",
                "ui/index.html"
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_name_that_is_not_utf8_is_refused_unless_left_out() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let folder = tempfile::tempdir().unwrap();
        let root = folder.path();
        fs_err::create_dir(root.join(OsStr::from_bytes(b"dir\xff"))).unwrap();
        fs_err::write(root.join(OsStr::from_bytes(b"dir\xff/keep")), "x").unwrap();
        fs_err::write(root.join("ok"), "x").unwrap();

        fs_err::write(root.join(".dockerignore"), "dir*\n").unwrap();
        let tree = read_context(root).unwrap();
        let paths: Vec<&str> = tree.entries().map(|(p, _)| p).collect();
        assert_eq!(paths, vec![".dockerignore", "ok"]);

        // Inside a folder with such a name, a name in UTF-8 is no better.
        fs_err::write(root.join(".dockerignore"), "dir*\n!dir*/keep\n").unwrap();
        let error = read_context(root).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the name of `dir\u{FFFD}/keep` in the build context is not UTF-8"
        );
    }
}
