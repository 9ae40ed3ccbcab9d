//! Stages that copy from each other: `COPY --from` may name any stage, even a later one, so a
//! stage can come to depend on itself. Such loops are found before anything is built, so no
//! name in them is mistaken for an image and looked up in a registry.

use crate::dockerfile::{Dockerfile, Step};
use crate::error::BuildError;

/// One stage's dependency on another: the line that makes it.
#[derive(Clone, Copy)]
struct Edge {
    to: usize,
    line: usize,
}

/// Refuses a Dockerfile whose stages depend on one another in a loop through `FROM` (which
/// names only earlier stages) and `COPY --from` (any stage). Values with variables are left
/// to the build, as are names that `named` (the `--build-context` names) stand for.
pub(crate) fn check(
    dockerfile: &Dockerfile,
    named: &dyn Fn(&str) -> bool,
) -> Result<(), BuildError> {
    let stages = &dockerfile.stages;
    let find = |name: &str, before: usize| -> Option<usize> {
        if name.contains('$') || named(name) {
            return None;
        }
        let lower = name.to_lowercase();
        stages[..before]
            .iter()
            .find(|stage| stage.name.as_deref() == Some(lower.as_str()))
            .or_else(|| {
                name.parse::<usize>()
                    .ok()
                    .and_then(|n| stages[..before].get(n))
            })
            .map(|stage| stage.index)
    };
    let edges: Vec<Vec<Edge>> = stages
        .iter()
        .map(|stage| {
            let mut edges: Vec<Edge> = find(&stage.image, stage.index)
                .map(|to| Edge {
                    to,
                    line: stage.line,
                })
                .into_iter()
                .collect();
            for step in &stage.steps {
                if let Step::Copy(spec) | Step::Add(spec) = &step.value {
                    for (flag, value) in &spec.flags {
                        if flag == "from"
                            && let Some(to) = value.as_deref().and_then(|v| find(v, stages.len()))
                        {
                            edges.push(Edge {
                                to,
                                line: step.line,
                            });
                        }
                    }
                }
            }
            edges
        })
        .collect();

    // Depth-first from every stage; a stage met again on the current path closes a loop.
    let mut done = vec![false; stages.len()];
    for start in 0..stages.len() {
        let mut path: Vec<(usize, usize)> = Vec::new(); // (stage, next edge to follow)
        if done[start] {
            continue;
        }
        path.push((start, 0));
        while let Some(&mut (stage, ref mut next)) = path.last_mut() {
            let Some(edge) = edges[stage].get(*next).copied() else {
                done[stage] = true;
                path.pop();
                continue;
            };
            *next += 1;
            if let Some(at) = path.iter().position(|(s, _)| *s == edge.to) {
                let names: Vec<String> = path[at..]
                    .iter()
                    .map(|(s, _)| format!("`{}`", stages[*s].label()))
                    .collect();
                let message = match names.as_slice() {
                    [one] => format!("stage {one} copies from itself (a circular dependency)"),
                    [a, b] => {
                        format!("stages {a} and {b} copy from each other (a circular dependency)")
                    }
                    [first @ .., last] => format!(
                        "stages {} and {last} copy from one another (a circular dependency)",
                        first.join(", ")
                    ),
                    [] => unreachable!("a loop has a stage"),
                };
                return Err(BuildError::CircularStages {
                    file: dockerfile.file.clone(),
                    line: edge.line,
                    message,
                });
            }
            if !done[edge.to] {
                path.push((edge.to, 0));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(text: &str) -> Result<(), String> {
        let dockerfile = crate::dockerfile::parse(text, "Dockerfile").unwrap();
        check(&dockerfile, &|name| name == "ctx").map_err(|error| error.to_string())
    }

    #[test]
    fn loops_through_copy_from_are_refused_with_the_line_closing_them() {
        assert_eq!(
            check_text("FROM scratch AS a\nCOPY --from=a /x /y\n"),
            Err("Dockerfile:2: stage `a` copies from itself (a circular dependency)".into())
        );
        assert_eq!(
            check_text(
                "FROM scratch AS a\nCOPY --from=b /x /y\nFROM scratch AS b\nCOPY --from=a /x /y\n"
            ),
            Err(
                "Dockerfile:4: stages `a` and `b` copy from each other (a circular dependency)"
                    .into()
            )
        );
        assert_eq!(
            check_text(
                "FROM scratch AS a\nCOPY --from=c / /\nFROM a AS b\nFROM scratch AS c\nCOPY \
                    --from=1 / /\n"
            ),
            Err(
                "Dockerfile:3: stages `a`, `c` and `b` copy from one another (a circular \
                dependency)"
                    .into()
            )
        );
    }

    #[test]
    fn forward_references_images_and_named_contexts_are_not_loops() {
        for text in [
            "FROM scratch AS a\nCOPY --from=b / /\nFROM scratch AS b\n",
            "FROM alpine AS alpine\n",
            "FROM scratch AS ctx\nCOPY --from=ctx / /\n",
            "FROM scratch AS a\nCOPY --from=$A / /\n",
            "FROM scratch AS a\nFROM a AS b\nCOPY --from=a / /\n",
        ] {
            assert_eq!(check_text(text), Ok(()), "{text}");
        }
    }
}
