//! Words and variables as the Dockerfile frontend reads them: quotes, escapes, `$VAR`,
//! `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?message}`.

use std::collections::BTreeMap;
use std::iter::Peekable;
use std::str::Chars;

/// Variables visible to an instruction: build arguments overlaid by the environment.
pub(crate) type Variables = BTreeMap<String, String>;

/// The longest value a word may expand to. Variables that repeat one another grow
/// exponentially (`ARG B=$A$A$A…`), so without a limit a short Dockerfile asks for gigabytes.
pub(crate) const MAX_VALUE_LEN: usize = 1 << 20;

/// Why a word could not be expanded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ExpandError {
    /// The word is malformed, or a `${NAME:?message}` stopped it.
    Invalid(String),
    /// Expanding the variable `variable` made the value longer than [`MAX_VALUE_LEN`].
    TooLong {
        /// The variable whose value did not fit.
        variable: String,
    },
}

impl From<String> for ExpandError {
    fn from(message: String) -> Self {
        ExpandError::Invalid(message)
    }
}

impl From<&str> for ExpandError {
    fn from(message: &str) -> Self {
        ExpandError::Invalid(message.to_string())
    }
}

/// Appends `text`, the value of or a word about `variable`, to `out`, unless that makes `out`
/// longer than [`MAX_VALUE_LEN`].
fn append(out: &mut String, text: &str, variable: &str) -> Result<(), ExpandError> {
    if out.len() + text.len() > MAX_VALUE_LEN {
        return Err(ExpandError::TooLong {
            variable: variable.to_string(),
        });
    }
    out.push_str(text);
    Ok(())
}

/// How a word is processed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quotes {
    /// Quotes group and are removed, as in instruction arguments.
    Remove,
    /// Quotes are ordinary characters, as in heredoc bodies.
    Keep,
}

/// Expands variables in one word, removing quotes and escapes (unless `quotes` keeps them).
/// Undefined variables expand to nothing, as in Docker.
pub(crate) fn expand_word(
    text: &str,
    variables: &Variables,
    escape: char,
    quotes: Quotes,
) -> Result<String, ExpandError> {
    let mut chars = text.chars().peekable();
    let mut out = String::new();
    let mut lexer = Lexer {
        variables,
        escape,
        quotes,
    };
    lexer.run(&mut chars, &mut out, None)?;
    Ok(out)
}

/// Splits `text` at unquoted, unescaped whitespace, keeping quotes and escapes in the words.
pub(crate) fn split_words(text: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            (Some('\''), '\'') | (Some('"'), '"') => {
                quote = None;
                word.push(c);
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                word.push(c);
            }
            (q, c) if c == escape && q != Some('\'') => {
                word.push(c);
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            (_, c) => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// The `KEY=VALUE` pairs of an `ENV`, `LABEL` or `ARG`, raw (quotes still in). A pair without
/// `=` has no value. When `legacy` is set, `KEY VALUE WITH SPACES` (no `=` in the first word)
/// is read as one pair, as `ENV` and `LABEL` allow.
pub(crate) fn name_values(text: &str, escape: char, legacy: bool) -> Vec<(String, Option<String>)> {
    let words = split_words(text, escape);
    if legacy
        && let Some(first) = words.first()
        && !first.contains('=')
        && words.len() > 1
    {
        let rest = text.trim_start()[first.len()..].trim();
        return vec![(first.clone(), Some(rest.to_string()))];
    }
    words
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some((key, value)) => (key.to_string(), Some(value.to_string())),
            None => (word, None),
        })
        .collect()
}

struct Lexer<'a> {
    variables: &'a Variables,
    escape: char,
    quotes: Quotes,
}

impl Lexer<'_> {
    /// Processes characters into `out` until the end, or until `stop` at the top level (the
    /// `}` closing a modifier's word), which is consumed.
    fn run(
        &mut self,
        chars: &mut Peekable<Chars<'_>>,
        out: &mut String,
        stop: Option<char>,
    ) -> Result<(), ExpandError> {
        while let Some(c) = chars.next() {
            if Some(c) == stop {
                return Ok(());
            }
            match c {
                '\'' if self.quotes == Quotes::Remove => loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => out.push(c),
                        None => return Err("a single quote is not closed".into()),
                    }
                },
                '"' if self.quotes == Quotes::Remove => loop {
                    match chars.next() {
                        Some('"') => break,
                        Some(c) if c == self.escape => match chars.peek() {
                            Some(&next) if next == '"' || next == '$' || next == self.escape => {
                                out.push(next);
                                chars.next();
                            }
                            _ => out.push(c),
                        },
                        Some('$') => self.dollar(chars, out)?,
                        Some(c) => out.push(c),
                        None => return Err("a double quote is not closed".into()),
                    }
                },
                '$' => self.dollar(chars, out)?,
                c if c == self.escape => match chars.next() {
                    Some(next) if self.quotes == Quotes::Remove || next == '$' => out.push(next),
                    Some(next) => {
                        out.push(c);
                        out.push(next);
                    }
                    None => out.push(c),
                },
                c => out.push(c),
            }
        }
        match stop {
            Some(stop) => Err(format!("a `${{` is not closed with `{stop}`").into()),
            None => Ok(()),
        }
    }

    /// Expands what follows a `$`.
    fn dollar(
        &mut self,
        chars: &mut Peekable<Chars<'_>>,
        out: &mut String,
    ) -> Result<(), ExpandError> {
        match chars.peek() {
            Some('{') => {
                chars.next();
                let name = take_name(chars);
                if name.is_empty() {
                    return Err("a `${` has no variable name".into());
                }
                match chars.next() {
                    Some('}') => append(
                        out,
                        self.variables.get(&name).map_or("", String::as_str),
                        &name,
                    ),
                    Some(':') => {
                        let modifier = chars.next().ok_or("a `${` is not closed")?;
                        self.modifier(&name, modifier, true, chars, out)
                    }
                    Some(modifier @ ('-' | '+' | '?')) => {
                        self.modifier(&name, modifier, false, chars, out)
                    }
                    Some(other) => Err(format!(
                        "the modifier `{other}` in `${{{name}…}}` is not supported"
                    )
                    .into()),
                    None => Err(format!("`${{{name}` is not closed").into()),
                }
            }
            Some(&c) if c.is_ascii_alphanumeric() || c == '_' => {
                let name = take_name(chars);
                append(
                    out,
                    self.variables.get(&name).map_or("", String::as_str),
                    &name,
                )
            }
            _ => {
                out.push('$');
                Ok(())
            }
        }
    }

    /// `${NAME:-word}` and friends; `colon` says whether an empty value counts as unset.
    fn modifier(
        &mut self,
        name: &str,
        modifier: char,
        colon: bool,
        chars: &mut Peekable<Chars<'_>>,
        out: &mut String,
    ) -> Result<(), ExpandError> {
        let mut word = String::new();
        self.run(chars, &mut word, Some('}'))?;
        let value = self.variables.get(name);
        let set = value.is_some_and(|v| !colon || !v.is_empty());
        match modifier {
            '-' | '?' if set => append(out, value.map_or("", String::as_str), name)?,
            '-' => append(out, &word, name)?,
            '+' if set => append(out, &word, name)?,
            '+' => {}
            '?' if word.is_empty() => return Err(format!("`{name}` is not set").into()),
            '?' => return Err(format!("`{name}`: {word}").into()),
            other => {
                return Err(
                    format!("the modifier `:{other}` in `${{{name}…}}` is not supported").into(),
                );
            }
        }
        Ok(())
    }
}

fn take_name(chars: &mut Peekable<Chars<'_>>) -> String {
    let mut name = String::new();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_alphanumeric() || c == '_' {
            name.push(c);
            chars.next();
        } else {
            break;
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables() -> Variables {
        [("A", "one"), ("EMPTY", ""), ("SPACED", "x y")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expand(text: &str) -> String {
        expand_word(text, &variables(), '\\', Quotes::Remove).unwrap()
    }

    #[test]
    fn plain_and_braced_variables() {
        assert_eq!(expand("$A"), "one");
        assert_eq!(expand("${A}"), "one");
        assert_eq!(expand("pre-${A}-post"), "pre-one-post");
        assert_eq!(expand("$A.txt"), "one.txt");
        assert_eq!(expand("$MISSING"), "");
        assert_eq!(expand("a$"), "a$");
        assert_eq!(expand("$SPACED"), "x y");
    }

    #[test]
    fn defaults_and_alternatives() {
        assert_eq!(expand("${MISSING:-def}"), "def");
        assert_eq!(expand("${EMPTY:-def}"), "def");
        assert_eq!(expand("${EMPTY-def}"), "");
        assert_eq!(expand("${A:-def}"), "one");
        assert_eq!(expand("${A:+alt}"), "alt");
        assert_eq!(expand("${EMPTY:+alt}"), "");
        assert_eq!(expand("${EMPTY+alt}"), "alt");
        assert_eq!(expand("${MISSING:+alt}"), "");
        assert_eq!(expand("${MISSING:-$A}"), "one");
        assert_eq!(expand("${MISSING:-${A:+nested}}"), "nested");
    }

    #[test]
    fn required_variables() {
        let error = expand_word("${MISSING:?say it}", &variables(), '\\', Quotes::Remove);
        assert_eq!(
            error.unwrap_err(),
            ExpandError::Invalid("`MISSING`: say it".into())
        );
        assert_eq!(expand("${A:?x}"), "one");
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(expand("'$A'"), "$A");
        assert_eq!(expand("\"$A b\""), "one b");
        assert_eq!(expand("\\$A"), "$A");
        assert_eq!(expand("\"a\\\"b\""), "a\"b");
        assert_eq!(expand("\"a\\nb\""), "a\\nb");
        assert_eq!(expand("a\\ b"), "a b");
    }

    #[test]
    fn heredoc_bodies_keep_quotes() {
        let body = expand_word("say \"$A\" '$A'\n", &variables(), '\\', Quotes::Keep).unwrap();
        assert_eq!(body, "say \"one\" 'one'\n");
    }

    #[test]
    fn unclosed_forms_are_errors() {
        assert!(expand_word("${A", &variables(), '\\', Quotes::Remove).is_err());
        assert!(expand_word("'a", &variables(), '\\', Quotes::Remove).is_err());
        assert!(expand_word("${A/x/y}", &variables(), '\\', Quotes::Remove).is_err());
    }

    #[test]
    fn words_and_pairs() {
        assert_eq!(
            split_words("a \"b c\" 'd e'\tf\\ g", '\\'),
            vec!["a", "\"b c\"", "'d e'", "f\\ g"]
        );
        assert_eq!(
            name_values("A=1 B=\"two words\" C", '\\', true),
            vec![
                ("A".to_string(), Some("1".to_string())),
                ("B".to_string(), Some("\"two words\"".to_string())),
                ("C".to_string(), None),
            ]
        );
        assert_eq!(
            name_values("KEY value with  spaces", '\\', true),
            vec![("KEY".to_string(), Some("value with  spaces".to_string()))]
        );
    }

    #[test]
    fn a_value_longer_than_the_limit_is_refused_naming_the_variable() {
        let mut variables = Variables::new();
        variables.insert("BIG".into(), "x".repeat(MAX_VALUE_LEN / 2 + 1));
        assert_eq!(
            expand_word("$BIG", &variables, '\\', Quotes::Remove).map(|v| v.len()),
            Ok(MAX_VALUE_LEN / 2 + 1)
        );
        for text in [
            "$BIG$BIG",
            "${BIG}${BIG}",
            "$BIG${BIG:-x}",
            "$BIG${BIG:+$BIG}",
        ] {
            assert_eq!(
                expand_word(text, &variables, '\\', Quotes::Remove),
                Err(ExpandError::TooLong {
                    variable: "BIG".into()
                }),
                "{text}"
            );
        }
    }
}
