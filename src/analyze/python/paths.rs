//! Directories and files named in Python code, as far as they can be known
//! statically: literal paths, paths computed from `__file__`, pytest's
//! temporary directories and rootdir.

use std::path::{Path, PathBuf};

use ruff_python_ast::{Expr, Operator};

use super::index::{Ctx, Index, Val};
use crate::analyze::Place;

const MAX_DEPTH: usize = 10;

/// pytest fixtures that are fresh temporary directories.
const TEMP_FIXTURES: &[&str] = &["tmp_path", "tmpdir"];

pub fn place_of<'a>(index: &Index<'a>, expr: &'a Expr, ctx: Ctx) -> Place {
    place_at(index, expr, ctx, 0)
}

fn place_at<'a>(index: &Index<'a>, expr: &'a Expr, ctx: Ctx, depth: usize) -> Place {
    if depth > MAX_DEPTH {
        return Place::Unknown;
    }
    let values = index.values_of(expr, ctx);
    let mut places = values.into_iter().map(|v| place_of_val(index, v, depth));
    let Some(first) = places.next() else {
        return Place::Unknown;
    };
    // All assignments must agree.
    if places.all(|p| p == first) {
        first
    } else {
        Place::Unknown
    }
}

fn place_of_val<'a>(index: &Index<'a>, val: Val<'a>, depth: usize) -> Place {
    match val {
        Val::File(m) => Place::Path {
            path: index.modules[m].path.clone(),
            relative: false,
        },
        Val::Qualified(q) if q == "os.curdir" => Place::Inherited,
        Val::Param(name) if TEMP_FIXTURES.contains(&name.as_str()) => Place::Temporary(name),
        Val::Entered(e, c) => {
            // `with tempfile.TemporaryDirectory() as d`.
            if let Expr::Call(call) = e
                && let Some(q) = index.qualified_callee(call, c)
                && q.starts_with("tempfile.")
            {
                return Place::Temporary(q);
            }
            Place::Unknown
        }
        Val::Expr(e, c) => place_of_expr(index, e, c, depth),
        _ => Place::Unknown,
    }
}

fn place_of_expr<'a>(index: &Index<'a>, expr: &'a Expr, ctx: Ctx, depth: usize) -> Place {
    match expr {
        Expr::StringLiteral(s) => literal(s.value.to_str()),
        Expr::BinOp(b) if b.op == Operator::Div => {
            let left = place_at(index, &b.left, ctx, depth + 1);
            match &*b.right {
                Expr::StringLiteral(s) => join(left, s.value.to_str()),
                _ => Place::Unknown,
            }
        }
        Expr::Attribute(a) => {
            let attr = a.attr.as_str();
            match attr {
                "parent" => parent(place_at(index, &a.value, ctx, depth + 1)),
                // `request.config.rootpath`, `pytestconfig.rootdir`.
                "rootpath" | "rootdir" => Place::PytestRoot,
                _ => Place::Unknown,
            }
        }
        Expr::Call(call) => {
            let callee = index.callee(call, ctx);
            let first_arg = call.arguments.args.first();
            match callee.first() {
                Some(Val::Qualified(q)) => match q.as_str() {
                    "os.getcwd" | "pathlib.Path.cwd" | "os.getcwdb" => Place::Inherited,
                    "pathlib.Path" | "pathlib.PurePath" | "pathlib.PosixPath" | "str"
                    | "os.fspath" | "os.path.abspath" | "os.path.realpath" | "os.path.normpath"
                    | "os.path.expanduser" => match first_arg {
                        Some(a) => place_at(index, a, ctx, depth + 1),
                        None => Place::Inherited,
                    },
                    "os.path.dirname" => match first_arg {
                        Some(a) => parent(place_at(index, a, ctx, depth + 1)),
                        None => Place::Unknown,
                    },
                    "os.path.join" => {
                        let mut args = call.arguments.args.iter();
                        let Some(first) = args.next() else {
                            return Place::Unknown;
                        };
                        let mut place = place_at(index, first, ctx, depth + 1);
                        for a in args {
                            match a {
                                Expr::StringLiteral(s) => place = join(place, s.value.to_str()),
                                _ => return Place::Unknown,
                            }
                        }
                        place
                    }
                    q if q.starts_with("tempfile.") => Place::Temporary(q.to_string()),
                    _ => method_place(index, call, ctx, depth),
                },
                _ => method_place(index, call, ctx, depth),
            }
        }
        _ => Place::Unknown,
    }
}

/// Methods on a path value: `p.resolve()`, `p.joinpath("x")`,
/// `tmp_path_factory.mktemp("x")`.
fn method_place<'a>(
    index: &Index<'a>,
    call: &'a ruff_python_ast::ExprCall,
    ctx: Ctx,
    depth: usize,
) -> Place {
    let Expr::Attribute(a) = &*call.func else {
        return Place::Unknown;
    };
    match a.attr.as_str() {
        "resolve" | "absolute" | "expanduser" => place_at(index, &a.value, ctx, depth + 1),
        "joinpath" => {
            let mut place = place_at(index, &a.value, ctx, depth + 1);
            for arg in call.arguments.args.iter() {
                match arg {
                    Expr::StringLiteral(s) => place = join(place, s.value.to_str()),
                    _ => return Place::Unknown,
                }
            }
            place
        }
        // `tmp_path_factory.mktemp()`, `tmpdir_factory.mktemp()`.
        "mktemp" | "getbasetemp" => Place::Temporary(format!("{}()", a.attr.as_str())),
        "cwd" => Place::Inherited,
        _ => Place::Unknown,
    }
}

fn literal(s: &str) -> Place {
    if s.is_empty() || s == "." || s == "./" {
        return Place::Inherited;
    }
    let path = PathBuf::from(s);
    Place::Path {
        relative: !path.is_absolute(),
        path,
    }
}

fn join(place: Place, part: &str) -> Place {
    match place {
        Place::Path { path, relative } => {
            let joined = crate::source::normalize(&path.join(part));
            Place::Path {
                relative: relative && !Path::new(part).is_absolute(),
                path: joined,
            }
        }
        Place::Inherited => literal(part),
        Place::Temporary(t) => Place::Temporary(t),
        _ => Place::Unknown,
    }
}

fn parent(place: Place) -> Place {
    match place {
        Place::Path { path, relative } => match path.parent() {
            Some(p) if !(relative && p.as_os_str().is_empty()) => Place::Path {
                path: p.to_path_buf(),
                relative,
            },
            _ => Place::Unknown,
        },
        _ => Place::Unknown,
    }
}
