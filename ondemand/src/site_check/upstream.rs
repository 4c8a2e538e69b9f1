//! The `upstream` blocks of `nginx -T`'s output, read as far as `site check` needs: which servers
//! each block has, and whether nginx may mark one of them down after a failed request.

/// One `server` line of an upstream block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Its address as written (`unix:/run/docker-apps/blog/php-fpm.sock`, `127.0.0.1:9000`).
    pub address: String,
    /// Its `max_fails=` value; `None` when not set (nginx's default is 1).
    pub max_fails: Option<String>,
}

impl Server {
    /// Whether nginx may skip this server for `fail_timeout` (10 s by default) after one failed
    /// request: unless it says `max_fails=0`, and unless it is the block's only server (nginx
    /// never marks a lone server down).
    pub fn may_be_marked_down(&self, servers_in_block: usize) -> bool {
        servers_in_block > 1 && self.max_fails.as_deref() != Some("0")
    }
}

/// One `upstream NAME { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// Its name.
    pub name: String,
    /// Its `server` lines, in order.
    pub servers: Vec<Server>,
}

/// The upstream blocks of an nginx configuration (`nginx -T`: every file it loads, with
/// comments). Comments end at the line's end; quotes are not needed in what is read here.
pub fn upstreams(config: &str) -> Vec<Upstream> {
    let tokens = tokens(config);
    let mut found = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "upstream" && tokens.get(i + 2).map(String::as_str) == Some("{") {
            let name = tokens[i + 1].clone();
            let (servers, end) = block_servers(&tokens, i + 3);
            found.push(Upstream { name, servers });
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

/// The `server` statements from `start` to the `}` that closes the block; and the index after it.
fn block_servers(tokens: &[String], start: usize) -> (Vec<Server>, usize) {
    let mut servers = Vec::new();
    let mut i = start;
    let mut depth = 0usize;
    while i < tokens.len() {
        match tokens[i].as_str() {
            "{" => depth += 1,
            "}" if depth == 0 => return (servers, i + 1),
            "}" => depth -= 1,
            "server" if depth == 0 => {
                let end = tokens[i..]
                    .iter()
                    .position(|t| t == ";")
                    .map_or(tokens.len(), |p| i + p);
                let words = &tokens[i + 1..end];
                if let Some(address) = words.first() {
                    servers.push(Server {
                        address: address.clone(),
                        max_fails: words[1..]
                            .iter()
                            .find_map(|w| w.strip_prefix("max_fails="))
                            .map(str::to_owned),
                    });
                }
                i = end;
            }
            _ => {}
        }
        i += 1;
    }
    (servers, i)
}

/// Words and the punctuation `{`, `}`, `;` as tokens of their own, comments left out.
fn tokens(config: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in config.lines() {
        let code = line.split('#').next().unwrap_or("");
        let mut word = String::new();
        for c in code.chars() {
            if c.is_whitespace() || matches!(c, '{' | '}' | ';') {
                if !word.is_empty() {
                    out.push(std::mem::take(&mut word));
                }
                if !c.is_whitespace() {
                    out.push(c.to_string());
                }
            } else {
                word.push(c);
            }
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

#[cfg(test)]
mod tests;
