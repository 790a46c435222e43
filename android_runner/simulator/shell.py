"""A small POSIX-sh subset for the simulated `shell:` service: enough for what edgekit and stock adb send.

Supported: words with '...', "...", backslash escapes; `$?`, `$NAME`, `${NAME}`; `;`, `&&`, `||`;
redirections `>`, `>>`, `2>`, `2>&1`, `>&2` (to /dev/null or a writable device file); `NAME=value cmd`.
Refused with a clear syntax error: pipes, `&`, command substitution. The quoting rules are the point:
a `;` or `$(...)` inside quotes is data, never syntax, exactly as on a phone.
"""
from __future__ import annotations

from dataclasses import dataclass, field

VAR_START, VAR_END = "\x00", "\x01"     # expansion markers resolved at run time (they depend on $?)


class ShellSyntaxError(Exception):
    pass


@dataclass
class Command:
    words: list[str] = field(default_factory=list)
    redirects: list[tuple[int, str, str]] = field(default_factory=list)   # (fd, op, target)
    connector: str = ";"                   # how this command joins the previous one: ; && ||


def _var_name(s: str, i: int) -> tuple[str | None, int]:
    """Parse a `$` expansion starting at s[i] == '$'; returns (marker text or None for a literal $, next index)."""
    nxt = s[i + 1] if i + 1 < len(s) else ""
    if nxt in ("?", "$", "#"):
        return VAR_START + nxt + VAR_END, i + 2
    if nxt == "(":
        raise ShellSyntaxError("command substitution is not supported by the simulator")
    if nxt == "{":
        end = s.find("}", i + 2)
        if end < 0:
            raise ShellSyntaxError("bad substitution")
        return VAR_START + s[i + 2:end] + VAR_END, end + 1
    j = i + 1
    while j < len(s) and (s[j].isalnum() or s[j] == "_"):
        j += 1
    return (VAR_START + s[i + 1:j] + VAR_END, j) if j > i + 1 else (None, i + 1)


def tokenize(s: str) -> list[tuple[str, str]]:
    """-> [("word", text) | ("op", op)]; quoted text can never become an op."""
    toks: list[tuple[str, str]] = []
    buf, have_word, quoted_word, i = [], False, False, 0

    def flush():
        nonlocal buf, have_word, quoted_word
        if have_word:
            toks.append(("word", "".join(buf)))
        buf, have_word, quoted_word = [], False, False

    while i < len(s):
        c = s[i]
        if c in " \t\n":
            flush(); i += 1
        elif c == "'":
            end = s.find("'", i + 1)
            if end < 0:
                raise ShellSyntaxError("unterminated quoted string")
            buf.append(s[i + 1:end]); have_word = quoted_word = True; i = end + 1
        elif c == '"':
            i += 1; have_word = quoted_word = True
            while True:
                if i >= len(s):
                    raise ShellSyntaxError("unterminated quoted string")
                c = s[i]
                if c == '"':
                    i += 1; break
                if c == "\\" and i + 1 < len(s) and s[i + 1] in '"\\$`':
                    buf.append(s[i + 1]); i += 2
                elif c == "$":
                    text, i = _var_name(s, i); buf.append(text if text is not None else "$")
                elif c == "`":
                    raise ShellSyntaxError("command substitution is not supported by the simulator")
                else:
                    buf.append(c); i += 1
        elif c == "\\":
            if i + 1 < len(s):
                buf.append(s[i + 1]); have_word = True
            i += 2
        elif c == "$":
            text, i = _var_name(s, i); buf.append(text if text is not None else "$"); have_word = True
        elif c == "`":
            raise ShellSyntaxError("command substitution is not supported by the simulator")
        elif c in ";&|<>":
            fd = None
            if c in "<>" and have_word and not quoted_word and "".join(buf).isdigit():
                fd = "".join(buf); buf, have_word = [], False   # `2>`: the digits are an fd, not a word
            flush()
            two = s[i:i + 2]
            op = two if two in ("&&", "||", ">>", ">&", ";;") else c
            i += len(op)
            if op in ("|", "&", ";;"):
                raise ShellSyntaxError(f"'{op}' is not supported by the simulator")
            toks.append(("op", (fd or "") + op))
        else:
            buf.append(c); have_word = True; i += 1
    flush()
    return toks


def parse(s: str) -> list[Command]:
    cmds, cur = [], Command()
    toks = tokenize(s)
    i = 0
    while i < len(toks):
        kind, text = toks[i]
        if kind == "word":
            cur.words.append(text)
        elif text in (";", "&&", "||"):
            if not cur.words and not cur.redirects:
                if text == ";" and not cmds:
                    i += 1; continue
                raise ShellSyntaxError(f"syntax error: unexpected '{text}'")
            cmds.append(cur); cur = Command(connector=text)
        else:
            fd_txt = text.rstrip("<>&")
            op = text[len(fd_txt):]
            if i + 1 >= len(toks) or toks[i + 1][0] != "word":
                raise ShellSyntaxError("syntax error: redirection without a target")
            fd = int(fd_txt) if fd_txt else (0 if op == "<" else 1)
            cur.redirects.append((fd, op, toks[i + 1][1])); i += 1
        i += 1
    if cur.words or cur.redirects:
        cmds.append(cur)
    elif cur.connector in ("&&", "||"):
        raise ShellSyntaxError(f"syntax error: unexpected end of command after '{cur.connector}'")
    return cmds


def expand(word: str, env: dict[str, str], last_rc: int) -> str:
    """Resolve the $-markers left by tokenize()."""
    out, i = [], 0
    while True:
        j = word.find(VAR_START, i)
        if j < 0:
            out.append(word[i:]); return "".join(out)
        k = word.find(VAR_END, j)
        name = word[j + 1:k]
        out.append(word[i:j])
        out.append(str(last_rc) if name == "?" else "1" if name == "$" else "0" if name == "#" else env.get(name, ""))
        i = k + 1
