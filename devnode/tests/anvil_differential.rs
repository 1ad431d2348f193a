//! A differential test against real anvil: the same scripted JSON-RPC session is sent to anvil
//! and to `solidml-devnode`, and every answer is compared field by field. Hashes and timestamps
//! are not compared (see [`IGNORED_KEYS`]); every other difference fails the test unless it is in
//! [`ALLOWED`] with its reason. A second test cross-loads state dumps both ways.
//!
//! Needs anvil: `FOUNDRY_BIN` (the directory holding it) or `stdlib-sol/toolchain/bin/anvil`
//! (`bash scripts/foundry-env.sh` installs it); without it the tests fail, unless `SOLIDML_SKIP`
//! lists `forge` (tests/skip.rs).
//!
//! anvil runs with `--hardfork prague`: the devnode implements Prague (what solc 0.8.30 and
//! forge 1.7 target), while anvil 1.7's default is the latest fork (Osaka with its blob
//! parameter forks), whose transaction gas cap and opcodes the devnode does not have.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use serde_json::{Value, json};

/// Keys not compared anywhere, with why. (A block's own `hash` is not compared either: see
/// [`compare`]; transaction hashes are.)
const IGNORED_KEYS: &[(&str, &str)] = &[
    // block hashes cover the state root and the timestamp, which differ (below)
    ("blockHash", "covers stateRoot and timestamp"),
    ("parentHash", "a block hash"),
    ("currentBlockHash", "a block hash (anvil_nodeInfo)"),
    // anvil's state root is the empty trie root at genesis and its trie differs from ours
    ("stateRoot", "anvil does not hash its genesis state; ours is a real trie root"),
    // the nodes start a moment apart: wall-clock times differ
    ("timestamp", "wall clock"),
    ("blockTimestamp", "wall clock"),
    ("currentBlockTimestamp", "wall clock (anvil_nodeInfo reports its env's, 1 at start)"),
    // anvil derives mixHash from its RNG/time; ours from number and timestamp
    ("mixHash", "random per node"),
];

/// Differences accepted, as (step label, path prefix, reason). `*` matches any step.
const ALLOWED: &[(&str, &str, &str)] = &[
    // leniency kept on purpose: clients (viem, ethers, cast) always send the tag, older tools don't
    ("balance dev9 no tag", "", "we take an omitted block tag as latest; anvil 1.7 requires it"),
    ("storage slot 1", "", "we take an omitted block tag as latest; anvil 1.7 requires it"),
    // filter ids are opaque; anvil draws random ones
    ("newFilter", ".result", "anvil's filter ids are random strings; ours count up"),
    ("newFilter topic", ".result", "anvil's filter ids are random strings; ours count up"),
    ("newBlockFilter", ".result", "anvil's filter ids are random strings; ours count up"),
    // replay protection kept on purpose
    ("wrong chain id legacy", "", "anvil 1.7 mines a legacy transaction signed for another chain; we refuse it as geth does"),
    // anvil's miner may wake once per transaction the filled gap promoted (timing dependent)
    ("nonce gap block after", ".result", "anvil sometimes mines an extra empty block after a filled nonce gap"),
    // the JSON-RPC layer (jsonrpsee in server.rs/rpc/mod.rs, not anvil's axum stack)
    ("malformed JSON", ".error", "jsonrpsee answers -32700 Parse error (the JSON-RPC spec's code); anvil -32600 Invalid request"),
    ("bad params", ".error.message", "jsonrpsee's serde message has an `Invalid params: ` prefix and the position"),
    ("missing params", ".error.message", "jsonrpsee's message for a missing parameter; anvil's is serde's tuple-variant message"),
    ("bad block tag", ".error.message", "jsonrpsee's serde message has an `Invalid params: ` prefix and the position"),
    ("oversize body", "", "our limit is 100 MiB with jsonrpsee's 413 / -32007 answer; anvil answers 200 / -32600"),
];

const DEV_KEYS: [&str; 3] = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];
const CHAIN_ID: u64 = 31337;
const GWEI: u128 = 1_000_000_000;

// ---------------------------------------------------------------------------------------------
// finding anvil, running the nodes, HTTP

fn anvil_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("FOUNDRY_BIN") {
        let p = Path::new(&dir).join("anvil");
        if p.exists() {
            return Some(p);
        }
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib-sol/toolchain/bin/anvil");
    p.exists().then_some(p)
}

/// The project's skip policy (`SOLIDML_SKIP=forge` skips; a missing tool fails naming its
/// install command), shared with the workspace's cross-crate tests.
// pub items: the file is also a module of the tests crate, where they are used from other files
#[allow(unreachable_pub, dead_code)]
#[path = "../../tests/skip.rs"]
mod skip;

/// anvil's path, `None` when `SOLIDML_SKIP` lists `forge`; a missing anvil fails the test with
/// the install command.
fn require_anvil() -> Option<PathBuf> {
    if skip::skipping("forge") {
        return None;
    }
    match anvil_bin() {
        Some(p) => Some(p),
        None => {
            skip::missing("forge", "anvil not found (neither $FOUNDRY_BIN/anvil nor stdlib-sol/toolchain/bin/anvil)", skip::INSTALL_FORGE)
        }
    }
}

fn devnode_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_solidml-devnode"))
}

/// A node process listening on a port it chose (`-p 0`).
struct Proc {
    name: &'static str,
    child: Child,
    port: u16,
}

impl Proc {
    fn start(name: &'static str, bin: &Path, args: &[&str]) -> Proc {
        let mut child = Command::new(bin)
            .args(["-p", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({}): {e}", bin.display()));
        let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut line = String::new();
        let port = loop {
            line.clear();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                panic!("{name} exited before listening");
            }
            if let Some(addr) = line.trim().strip_prefix("Listening on ") {
                break addr.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or_else(|| panic!("{name}: bad line {line:?}"));
            }
        };
        // keep reading its log so that it never blocks on a full pipe
        std::thread::spawn(move || for _ in out.lines() {});
        Proc { name, child, port }
    }

    /// Stop it with SIGTERM and wait for it to exit (it writes its state file on the way out).
    fn terminate(mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("{} did not exit on SIGTERM", self.name);
    }

    fn rpc(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let (_, text) = post(self.port, body.to_string().as_bytes());
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {method}: not JSON ({e}): {text}", self.name));
        match v.get("result") {
            Some(r) => r.clone(),
            None => panic!("{}: {method} failed: {v}", self.name),
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POST `body` (HTTP/1.1, connection closed after): the status and the body.
fn post(port: u16, body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).expect("timeout");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // a server may answer and close before reading all of an oversize body
    let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(body));
    let mut raw = vec![];
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let chunked = head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding: chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_string() };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// comparing

/// One field that differs.
struct Diff {
    step: String,
    path: String,
    anvil: String,
    ours: String,
}

const ABSENT: &str = "<absent>";

fn show(v: Option<&Value>) -> String {
    match v {
        None => ABSENT.into(),
        Some(v) => {
            let s = v.to_string();
            if s.len() > 200 { format!("{}…", &s[..200]) } else { s }
        }
    }
}

fn is_hash(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 66 && s.starts_with("0x"))
}

/// How a step's answers are compared.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Field by field, [`IGNORED_KEYS`] skipped.
    Fields,
    /// As `Fields`, timestamps compared too (after `evm_setNextBlockTimestamp`).
    WithTimestamps,
    /// As `Fields`, every 32-byte value taken as a hash and not compared (block filter changes).
    MaskHashes,
    /// As `Fields`, numbers equal within a few (a time offset: each node measures its offset
    /// against wall time, at moments a second or two apart under load; the step between two
    /// answers is compared exactly instead).
    WithinSeconds,
}

fn compare(step: &str, mode: Mode, path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Diff>) {
    let diff = |out: &mut Vec<Diff>| out.push(Diff { step: step.into(), path: path.into(), anvil: show(a), ours: show(b) });
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            // a block (it has a parent): its hash covers the state root and the timestamp
            let is_block = x.contains_key("parentHash");
            for k in keys {
                let keep_time = mode == Mode::WithTimestamps && k == "timestamp";
                if (IGNORED_KEYS.iter().any(|(i, _)| i == k) && !keep_time) || (is_block && k == "hash") {
                    // not compared, but there on both sides or on neither
                    if x.contains_key(k) != y.contains_key(k) {
                        let p = format!("{path}.{k}");
                        out.push(Diff { step: step.into(), path: p, anvil: show(x.get(k)), ours: show(y.get(k)) });
                    }
                    continue;
                }
                // anvil lists an access list in hash-map order (it varies from run to run)
                if k == "accessList" {
                    let sorted = |v: Option<&Value>| {
                        let mut items = v.and_then(Value::as_array).cloned().unwrap_or_default();
                        items.sort_by_key(|i| i.get("address").map(Value::to_string));
                        Value::Array(items)
                    };
                    compare(step, mode, &format!("{path}.{k}"), Some(&sorted(x.get(k))), Some(&sorted(y.get(k))), out);
                    continue;
                }
                compare(step, mode, &format!("{path}.{k}"), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                compare(step, mode, &format!("{path}[{i}]"), Some(u), Some(v), out);
            }
        }
        (Some(u), Some(v)) if mode == Mode::MaskHashes && is_hash(u) && is_hash(v) => {}
        (Some(Value::Number(u)), Some(Value::Number(v)))
            if mode == Mode::WithinSeconds && u.as_i64().zip(v.as_i64()).is_some_and(|(u, v)| (u - v).abs() <= 5) => {}
        (Some(u), Some(v)) if u == v => {}
        _ => diff(out),
    }
}

fn allowed(d: &Diff) -> Option<&'static str> {
    ALLOWED.iter().find(|(step, path, _)| (*step == "*" || *step == d.step) && d.path.starts_with(path)).map(|a| a.2)
}

/// The scripted session: both nodes, per-node variables (hashes that differ), the differences.
struct Session {
    nodes: [Proc; 2],
    vars: [HashMap<String, Value>; 2],
    diffs: Vec<Diff>,
    compared: usize,
    id: u64,
}

impl Session {
    /// `$name` strings in `params` replaced by node `i`'s variable.
    fn subst(&self, i: usize, v: &Value) -> Value {
        match v {
            Value::String(s) if s.starts_with('$') => self.vars[i].get(&s[1..]).cloned().unwrap_or_else(|| panic!("no variable {s}")),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.subst(i, x)).collect()),
            Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), self.subst(i, x))).collect()),
            other => other.clone(),
        }
    }

    /// Send the same body to both and compare the answers (and HTTP statuses).
    fn raw(&mut self, step: &str, mode: Mode, bodies: [Vec<u8>; 2]) -> [Value; 2] {
        self.compared += 1;
        let answers: Vec<(u16, String)> = self.nodes.iter().zip(&bodies).map(|(n, b)| post(n.port, b)).collect();
        let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or_else(|_| Value::String(format!("<not JSON> {}", t.trim())));
        let (a, b) = (parse(&answers[0].1), parse(&answers[1].1));
        if answers[0].0 != answers[1].0 {
            self.diffs.push(Diff {
                step: step.into(),
                path: "<HTTP status>".into(),
                anvil: answers[0].0.to_string(),
                ours: answers[1].0.to_string(),
            });
        }
        compare(step, mode, "", Some(&a), Some(&b), &mut self.diffs);
        [a, b]
    }

    fn call_mode(&mut self, step: &str, mode: Mode, method: &str, params: Value) -> [Value; 2] {
        // anvil's fee history (behind these answers) is filled by a background task after each
        // block: give it a moment, or under load it answers from an older block
        if matches!(method, "eth_feeHistory" | "eth_gasPrice" | "eth_maxPriorityFeePerGas" | "eth_sendTransaction" | "anvil_nodeInfo") {
            std::thread::sleep(Duration::from_millis(250));
        }
        self.id += 1;
        let bodies = [0, 1]
            .map(|i| json!({"jsonrpc": "2.0", "id": self.id, "method": method, "params": self.subst(i, &params)}).to_string().into_bytes());
        let [a, b] = self.raw(step, mode, bodies);
        let result = |v: Value| v.get("result").cloned().unwrap_or_else(|| v.get("error").cloned().unwrap_or(v));
        let (a, b) = (result(a), result(b));
        if matches!(method, "eth_sendRawTransaction" | "eth_sendTransaction") {
            self.wait_mined(&a);
        }
        [a, b]
    }

    /// `method(params)` on both, compared; the two results (or errors).
    fn call(&mut self, step: &str, method: &str, params: Value) -> [Value; 2] {
        self.call_mode(step, Mode::Fields, method, params)
    }

    /// Both nodes mine after they answer a send (anvil's miner, and ours, take the pooled
    /// transaction into the next block): wait (a second at most per node: a transaction behind
    /// a nonce gap is not mined) for the transaction's receipt on each.
    fn wait_mined(&self, hash: &Value) {
        if !is_hash(hash) {
            return;
        }
        let body = json!({"jsonrpc": "2.0", "id": 0, "method": "eth_getTransactionReceipt", "params": [hash]}).to_string();
        for node in &self.nodes {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(1) {
                let (_, text) = post(node.port, body.as_bytes());
                if serde_json::from_str::<Value>(&text).ok().and_then(|v| v.get("result").cloned()).is_some_and(|r| !r.is_null()) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }

    /// Keep each node's result under `name` for later `$name` parameters.
    fn save(&mut self, name: &str, values: [Value; 2]) {
        for (i, v) in values.into_iter().enumerate() {
            self.vars[i].insert(name.into(), v);
        }
    }

    fn set(&mut self, name: &str, v: Value) {
        self.save(name, [v.clone(), v]);
    }

    /// Both results, which must be equal (after the comparison), as one.
    fn one(r: [Value; 2]) -> Value {
        r[0].clone()
    }

    fn report(&self) {
        let (allowed_diffs, failing): (Vec<&Diff>, Vec<&Diff>) = self.diffs.iter().partition(|d| allowed(d).is_some());
        println!("compared {} requests against anvil; {} allow-listed difference(s):", self.compared, allowed_diffs.len());
        for d in &allowed_diffs {
            println!("  allowed  {}  {}: anvil {}  ours {}  ({})", d.step, d.path, d.anvil, d.ours, allowed(d).unwrap_or(""));
        }
        for (step, path, reason) in ALLOWED {
            if !self.diffs.iter().any(|d| (*step == "*" || *step == d.step) && d.path.starts_with(path)) {
                println!("  (allow-list entry not needed: {step} {path}: {reason})");
            }
        }
        if !failing.is_empty() {
            let mut msg = format!("{} difference(s) from anvil:\n", failing.len());
            for d in &failing {
                msg.push_str(&format!("  {}  {}\n      anvil: {}\n      ours:  {}\n", d.step, d.path, d.anvil, d.ours));
            }
            panic!("{msg}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// contracts (raw EVM code) and transactions

/// Init code returning `runtime`.
fn deploy_code(runtime: &[u8]) -> Bytes {
    let l = (runtime.len() as u16).to_be_bytes();
    let mut c = vec![0x61, l[0], l[1], 0x60, 0x0e, 0x60, 0x00, 0x39, 0x61, l[0], l[1], 0x60, 0x00, 0xf3];
    c.extend_from_slice(runtime);
    c.into()
}

/// Runtime code that reverts with `data` whatever it is called with.
fn reverting(data: &[u8]) -> Vec<u8> {
    let l = (data.len() as u16).to_be_bytes();
    let mut c = vec![0x61, l[0], l[1], 0x60, 0x0e, 0x60, 0x00, 0x39, 0x61, l[0], l[1], 0x60, 0x00, 0xfd];
    c.extend_from_slice(data);
    c
}

fn selector(sig: &str) -> [u8; 4] {
    keccak256(sig.as_bytes())[..4].try_into().expect("4 bytes")
}

fn word(n: u64) -> [u8; 32] {
    U256::from(n).to_be_bytes()
}

/// `Error(string)` revert data.
fn error_string(reason: &str) -> Vec<u8> {
    let mut d = selector("Error(string)").to_vec();
    d.extend(word(32));
    d.extend(word(reason.len() as u64));
    let mut r = reason.as_bytes().to_vec();
    r.resize(reason.len().div_ceil(32) * 32, 0);
    d.extend(r);
    d
}

fn ping_topic() -> B256 {
    keccak256("Ping(bytes)")
}

/// Copies its calldata to memory, emits `LOG1(Ping, calldata)` and `LOG2(Ping, 7)` with no data.
fn logger() -> Vec<u8> {
    let mut c = vec![0x36, 0x60, 0x00, 0x60, 0x00, 0x37, 0x7f];
    c.extend(ping_topic().0);
    c.extend([0x36, 0x60, 0x00, 0xa1, 0x7f]);
    c.extend(word(7));
    c.push(0x7f);
    c.extend(ping_topic().0);
    c.extend([0x60, 0x00, 0x60, 0x00, 0xa2, 0x00]);
    c
}

/// No calldata: returns slot 0. Calldata: stores its first word in slot 0.
fn storer() -> Vec<u8> {
    hex("36600f5760005460005260206000f35b60003560005500")
}

/// Returns CALLER, ORIGIN, GASPRICE, NUMBER, CHAINID, BASEFEE, GASLIMIT, CALLVALUE as words.
fn whoami() -> Vec<u8> {
    let mut c = vec![];
    for (i, op) in [0x33u8, 0x32, 0x3a, 0x43, 0x46, 0x48, 0x45, 0x34].iter().enumerate() {
        c.extend([*op, 0x60, (i * 32) as u8, 0x52]);
    }
    c.extend([0x61, 0x01, 0x00, 0x60, 0x00, 0xf3]);
    c
}

/// Forwards its calldata to `target` (CALL), stores the call's success in slot 1.
fn proxy(target: Address) -> Vec<u8> {
    let mut c = vec![0x36, 0x60, 0x00, 0x60, 0x00, 0x37, 0x60, 0x00, 0x60, 0x00, 0x36, 0x60, 0x00, 0x60, 0x00, 0x73];
    c.extend(target.0);
    c.extend([0x5a, 0xf1, 0x60, 0x01, 0x55, 0x00]);
    c
}

fn hex(s: &str) -> Vec<u8> {
    alloy_primitives::hex::decode(s).expect("hex")
}

fn signer(key: &str) -> PrivateKeySigner {
    key.parse().expect("key")
}

/// A signed EIP-1559 transaction (20 gwei cap, 1 gwei tip) as `0x…` raw bytes.
fn tx1559(key: &PrivateKeySigner, chain_id: u64, nonce: u64, to: Option<Address>, value: u128, input: Bytes, gas: u64) -> Bytes {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 20 * GWEI,
        max_priority_fee_per_gas: GWEI,
        to: to.map(TxKind::Call).unwrap_or(TxKind::Create),
        value: U256::from(value),
        access_list: Default::default(),
        input,
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    TxEnvelope::Eip1559(tx.into_signed(sig)).encoded_2718().into()
}

/// A signed legacy transaction (EIP-155 with `chain_id`).
fn legacy(key: &PrivateKeySigner, chain_id: Option<u64>, nonce: u64, to: Address, value: u128, gas: u64) -> Bytes {
    let tx = TxLegacy {
        chain_id,
        nonce,
        gas_price: 10 * GWEI,
        gas_limit: gas,
        to: TxKind::Call(to),
        value: U256::from(value),
        input: Bytes::new(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
    TxEnvelope::Legacy(tx.into_signed(sig)).encoded_2718().into()
}

fn start_pair(anvil: &Path, extra_anvil: &[&str], extra_ours: &[&str]) -> [Proc; 2] {
    let mut a = vec!["--hardfork", "prague"];
    a.extend_from_slice(extra_anvil);
    [Proc::start("anvil", anvil, &a), Proc::start("solidml-devnode", &devnode_bin(), extra_ours)]
}

// ---------------------------------------------------------------------------------------------
// the session

#[test]
fn answers_like_anvil() {
    let Some(anvil) = require_anvil() else { return };
    let mut s = Session { nodes: start_pair(&anvil, &[], &[]), vars: Default::default(), diffs: vec![], compared: 0, id: 0 };
    script(&mut s);
    s.report();
}

fn script(s: &mut Session) {
    let dev: Vec<PrivateKeySigner> = DEV_KEYS.iter().map(|k| signer(k)).collect();
    let (dev0, dev1, dev2) = (dev[0].address(), dev[1].address(), dev[2].address());
    let k1 = &dev[1];
    let mut n1 = 0u64; // dev1's next nonce
    let send = |s: &mut Session, step: &str, raw: Bytes| s.call(step, "eth_sendRawTransaction", json!([raw]));

    // --- the chain and the accounts
    s.call("chainId", "eth_chainId", json!([]));
    s.call("net_version", "net_version", json!([]));
    s.call("accounts", "eth_accounts", json!([]));
    s.call("blockNumber", "eth_blockNumber", json!([]));
    s.call("balance dev0", "eth_getBalance", json!([dev0, "latest"]));
    s.call("balance dev9 no tag", "eth_getBalance", json!(["0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"]));
    s.call("nonce dev0", "eth_getTransactionCount", json!([dev0, "latest"]));
    s.call("gasPrice", "eth_gasPrice", json!([]));
    s.call("maxPriorityFeePerGas", "eth_maxPriorityFeePerGas", json!([]));
    s.call("feeHistory genesis", "eth_feeHistory", json!(["0x4", "latest", [10, 50, 90]]));
    s.call("nodeInfo", "anvil_nodeInfo", json!([]));
    s.call("genesis block", "eth_getBlockByNumber", json!(["0x0", false]));
    s.call("create2 deployer code", "eth_getCode", json!(["0x4e59b44847b379578588920ca78fbf26c0b4956c", "latest"]));
    s.call("history contract code", "eth_getCode", json!(["0x0000F90827F1C53a10cb7A02335B175320002935", "latest"]));

    // --- deployments (raw init code, dev1)
    let nope = error_string("nope");
    let mut custom = selector("Unauthorized(address)").to_vec();
    custom.extend(B256::left_padding_from(dev2.as_slice()).0);
    let mut panic = selector("Panic(uint256)").to_vec();
    panic.extend(word(0x11));
    let logger_addr = dev1.create(3);
    let contracts: [(&str, Vec<u8>); 7] = [
        ("reverter", reverting(&nope)),
        ("custom", reverting(&custom)),
        ("panic", reverting(&panic)),
        ("logger", logger()),
        ("storer", storer()),
        ("whoami", whoami()),
        ("proxy", proxy(logger_addr)),
    ];
    let mut addr = HashMap::new();
    for (name, runtime) in &contracts {
        let raw = tx1559(k1, CHAIN_ID, n1, None, 0, deploy_code(runtime), 200_000);
        let h = send(s, &format!("deploy {name}"), raw);
        s.save("h", h);
        s.call(&format!("deploy {name} receipt"), "eth_getTransactionReceipt", json!(["$h"]));
        addr.insert(*name, dev1.create(n1));
        n1 += 1;
        s.call(&format!("code {name}"), "eth_getCode", json!([addr[name], "latest"]));
    }
    let [reverter, custom_c, panic_c, logger_c, storer_c, whoami_c, proxy_c] =
        ["reverter", "custom", "panic", "logger", "storer", "whoami", "proxy"].map(|n| addr[n]);
    let after_deploys = Session::one(s.call("blockNumber after deploys", "eth_blockNumber", json!([])));

    // --- estimates and calls
    s.call("estimate transfer", "eth_estimateGas", json!([{"from": dev0, "to": dev2, "value": "0x1"}]));
    s.call(
        "estimate store",
        "eth_estimateGas",
        json!([{"from": dev0, "to": storer_c, "data": format!("0x{}", alloy_primitives::hex::encode(word(5)))}]),
    );
    s.call("estimate log", "eth_estimateGas", json!([{"from": dev0, "to": logger_c, "data": "0x1234"}]));
    s.call("estimate proxy", "eth_estimateGas", json!([{"from": dev0, "to": proxy_c, "data": "0x1234"}]));
    s.call("estimate deploy", "eth_estimateGas", json!([{"from": dev0, "data": deploy_code(&storer())}]));
    s.call(
        "estimate no from",
        "eth_estimateGas",
        json!([{"to": storer_c, "data": format!("0x{}", alloy_primitives::hex::encode(word(5)))}]),
    );
    s.call("estimate revert string", "eth_estimateGas", json!([{"from": dev0, "to": reverter}]));
    s.call("estimate revert custom", "eth_estimateGas", json!([{"from": dev0, "to": custom_c}]));
    s.call("estimate revert panic", "eth_estimateGas", json!([{"from": dev0, "to": panic_c}]));
    s.call(
        "estimate too poor",
        "eth_estimateGas",
        json!([{"from": "0x000000000000000000000000000000000000dEaD", "to": dev2, "value": "0x1"}]),
    );
    s.call("call revert string", "eth_call", json!([{"from": dev0, "to": reverter}, "latest"]));
    s.call("call revert custom", "eth_call", json!([{"from": dev0, "to": custom_c}, "latest"]));
    s.call("call revert panic", "eth_call", json!([{"from": dev0, "to": panic_c}, "latest"]));
    s.call("call whoami no from", "eth_call", json!([{"to": whoami_c}]));
    s.call("call whoami from dev0", "eth_call", json!([{"from": dev0, "to": whoami_c}, "latest"]));
    s.call("call whoami priced", "eth_call", json!([{"from": dev0, "to": whoami_c, "gasPrice": "0x77359400", "value": "0x5"}, "latest"]));
    s.call("call whoami pending", "eth_call", json!([{"from": dev0, "to": whoami_c}, "pending"]));
    s.call("call whoami gas", "eth_call", json!([{"from": dev0, "to": whoami_c, "gas": "0x5208"}, "latest"]));
    s.call("call too poor", "eth_call", json!([{"from": "0x000000000000000000000000000000000000dEaD", "to": dev2, "value": "0x1"}]));
    s.call("call storer latest", "eth_call", json!([{"to": storer_c}, "latest"]));

    // --- a store, then reads at block tags
    let raw = tx1559(k1, CHAIN_ID, n1, Some(storer_c), 0, word(42).to_vec().into(), 100_000);
    n1 += 1;
    let h = send(s, "store 42", raw);
    s.save("h", h);
    s.call("store 42 receipt", "eth_getTransactionReceipt", json!(["$h"]));
    s.call("call storer after", "eth_call", json!([{"to": storer_c}, "latest"]));
    s.call("call storer at deploys", "eth_call", json!([{"to": storer_c}, after_deploys]));
    s.call("storage slot 0", "eth_getStorageAt", json!([storer_c, "0x0", "latest"]));
    s.call("storage slot 0 earlier", "eth_getStorageAt", json!([storer_c, "0x0", after_deploys]));
    s.call("storage slot 1", "eth_getStorageAt", json!([storer_c, "0x1"]));
    s.call("call future block", "eth_call", json!([{"to": storer_c}, "0x999"]));
    s.call("balance future block", "eth_getBalance", json!([dev0, "0x999"]));
    s.call(
        "call override state",
        "eth_call",
        json!([{"to": storer_c}, "latest", {format!("{storer_c}"): {"state": {"0x0000000000000000000000000000000000000000000000000000000000000000": "0x0000000000000000000000000000000000000000000000000000000000000007"}}}]),
    );
    s.call(
        "call override stateDiff",
        "eth_call",
        json!([{"to": storer_c}, "latest", {format!("{storer_c}"): {"stateDiff": {"0x0000000000000000000000000000000000000000000000000000000000000000": "0x0000000000000000000000000000000000000000000000000000000000000009"}}}]),
    );
    s.call(
        "call override code+balance",
        "eth_call",
        json!([{"from": dev0, "to": "0x1000000000000000000000000000000000000001"}, "latest", {"0x1000000000000000000000000000000000000001": {"code": format!("0x{}", alloy_primitives::hex::encode(whoami())), "balance": "0x1000"}}]),
    );

    // --- mined failures
    let raw = tx1559(k1, CHAIN_ID, n1, Some(reverter), 0, Bytes::new(), 100_000);
    n1 += 1;
    let h = send(s, "mined revert", raw);
    s.save("h", h);
    s.call("mined revert receipt", "eth_getTransactionReceipt", json!(["$h"]));
    s.call("mined revert trace", "debug_traceTransaction", json!(["$h", {"tracer": "callTracer"}]));
    let raw = tx1559(k1, CHAIN_ID, n1, Some(custom_c), 0, Bytes::new(), 100_000);
    n1 += 1;
    let h = send(s, "mined custom", raw);
    s.save("h", h);
    s.call("mined custom receipt", "eth_getTransactionReceipt", json!(["$h"]));
    s.call("mined custom tx", "eth_getTransactionByHash", json!(["$h"]));

    // --- logs and filters
    let r = s.call("newFilter", "eth_newFilter", json!([{"address": logger_c}]));
    s.save("log_filter", r);
    let r = s.call("newFilter topic", "eth_newFilter", json!([{"topics": [null, B256::from(word(7))]}]));
    s.save("topic_filter", r);
    let r = s.call("newBlockFilter", "eth_newBlockFilter", json!([]));
    s.save("block_filter", r);
    s.call("filter changes none", "eth_getFilterChanges", json!(["$log_filter"]));
    let raw = tx1559(k1, CHAIN_ID, n1, Some(logger_c), 0, Bytes::from(vec![0xab; 40]), 100_000);
    n1 += 1;
    let h = send(s, "log tx", raw);
    s.save("h", h);
    let r = s.call("log tx receipt", "eth_getTransactionReceipt", json!(["$h"]));
    s.save("log_block", r.map(|r| r.get("blockHash").cloned().unwrap_or_default()));
    s.call("getLogs blockHash", "eth_getLogs", json!([{"blockHash": "$log_block"}]));
    s.call("block by hash", "eth_getBlockByHash", json!(["$log_block", true]));
    s.call("block receipts by hash", "eth_getBlockReceipts", json!(["$log_block"]));
    let raw = tx1559(k1, CHAIN_ID, n1, Some(proxy_c), 0, Bytes::from(vec![0xcd; 3]), 150_000);
    n1 += 1;
    let hp = send(s, "proxy tx", raw);
    s.save("hp", hp);
    s.call("proxy tx receipt", "eth_getTransactionReceipt", json!(["$hp"]));
    s.call("proxy tx trace", "debug_traceTransaction", json!(["$hp", {"tracer": "callTracer"}]));
    s.call(
        "proxy tx trace with logs",
        "debug_traceTransaction",
        json!(["$hp", {"tracer": "callTracer", "tracerConfig": {"withLog": true}}]),
    );
    s.call("getLogs address", "eth_getLogs", json!([{"address": logger_c, "fromBlock": "0x0", "toBlock": "latest"}]));
    s.call("getLogs topic0", "eth_getLogs", json!([{"fromBlock": "earliest", "topics": [ping_topic()]}]));
    s.call("getLogs topic1", "eth_getLogs", json!([{"fromBlock": "0x0", "topics": [null, B256::from(word(7))]}]));
    s.call("getLogs topic or", "eth_getLogs", json!([{"fromBlock": "0x0", "topics": [[ping_topic(), B256::ZERO]]}]));
    s.call("getLogs no match", "eth_getLogs", json!([{"fromBlock": "0x0", "address": storer_c}]));
    s.call("getLogs default range", "eth_getLogs", json!([{"address": logger_c}]));
    s.call("filter changes logs", "eth_getFilterChanges", json!(["$log_filter"]));
    s.call("filter changes topic", "eth_getFilterChanges", json!(["$topic_filter"]));
    s.call_mode("filter changes blocks", Mode::MaskHashes, "eth_getFilterChanges", json!(["$block_filter"]));
    s.call("filter changes again", "eth_getFilterChanges", json!(["$log_filter"]));
    s.call("getFilterLogs", "eth_getFilterLogs", json!(["$topic_filter"]));
    s.call("uninstall", "eth_uninstallFilter", json!(["$log_filter"]));
    s.call("uninstall again", "eth_uninstallFilter", json!(["$log_filter"]));
    s.call("changes uninstalled", "eth_getFilterChanges", json!(["$log_filter"]));
    s.call("uninstall block filter", "eth_uninstallFilter", json!(["$block_filter"]));

    // --- a nonce gap, then filled (inside a snapshot: anvil's block count after it varies)
    let r = s.call("snapshot for nonce gap", "evm_snapshot", json!([]));
    s.save("snap", r);
    let gap = tx1559(k1, CHAIN_ID, n1 + 1, Some(dev2), 1000, Bytes::new(), 21_000);
    let hg = send(s, "nonce gap", gap);
    s.save("hg", hg);
    s.call("nonce gap pending tx", "eth_getTransactionByHash", json!(["$hg"]));
    s.call("nonce gap receipt", "eth_getTransactionReceipt", json!(["$hg"]));
    s.call("nonce gap count pending", "eth_getTransactionCount", json!([dev1, "pending"]));
    s.call("nonce gap count latest", "eth_getTransactionCount", json!([dev1, "latest"]));
    s.call("nonce gap block", "eth_blockNumber", json!([]));
    let fill = tx1559(k1, CHAIN_ID, n1, Some(dev2), 2000, Bytes::new(), 21_000);
    let hf = send(s, "nonce gap fill", fill);
    s.save("hf", hf);
    n1 += 2;
    s.call("nonce gap fill receipt", "eth_getTransactionReceipt", json!(["$hf"]));
    s.call("nonce gap gapped receipt", "eth_getTransactionReceipt", json!(["$hg"]));
    s.call("nonce gap count after", "eth_getTransactionCount", json!([dev1, "pending"]));
    s.call("nonce gap block after", "eth_blockNumber", json!([]));
    s.call("revert nonce gap", "evm_revert", json!(["$snap"]));
    // evm_revert keeps the next base fee on anvil, which its extra block may have lowered: set it
    s.call("set next base fee", "anvil_setNextBlockBaseFeePerGas", json!(["0x3b9aca00"]));
    s.call("gasPrice after set base fee", "eth_gasPrice", json!([]));
    n1 -= 2;

    // --- refusals
    send(s, "nonce too low", tx1559(k1, CHAIN_ID, 0, Some(dev2), 1, Bytes::new(), 21_000));
    let poor = signer("4242424242424242424242424242424242424242424242424242424242424242");
    send(s, "insufficient funds", tx1559(&poor, CHAIN_ID, 0, Some(dev2), 1, Bytes::new(), 21_000));
    send(s, "intrinsic gas too low", tx1559(k1, CHAIN_ID, n1, Some(dev2), 1, Bytes::new(), 20_000));
    send(s, "gas above block limit", tx1559(k1, CHAIN_ID, n1, Some(dev2), 1, Bytes::new(), 40_000_000));
    send(s, "wrong chain id 1559", tx1559(k1, 1, n1, Some(dev2), 1, Bytes::new(), 21_000));
    let mut bad = tx1559(k1, CHAIN_ID, n1, Some(dev2), 1, Bytes::new(), 21_000).to_vec();
    let len = bad.len();
    bad[len - 32..].fill(0); // s = 0
    send(s, "bad signature s=0", bad.into());
    let mut bad = tx1559(k1, CHAIN_ID, n1, Some(dev2), 1, Bytes::new(), 21_000).to_vec();
    bad[len - 40] ^= 0xff; // a different r: a different (or no) signer
    send(s, "bad signature r", bad.into());
    send(s, "undecodable raw tx", Bytes::from(vec![0xde, 0xad, 0xbe, 0xef]));
    let raw = legacy(k1, None, n1, dev2, 7, 21_000);
    n1 += 1;
    let h = send(s, "legacy pre-155", raw);
    s.save("h", h);
    s.call("legacy pre-155 tx", "eth_getTransactionByHash", json!(["$h"]));
    s.call("legacy pre-155 receipt", "eth_getTransactionReceipt", json!(["$h"]));
    let raw = legacy(k1, Some(CHAIN_ID), n1, dev2, 7, 21_000);
    n1 += 1;
    let h = send(s, "legacy", raw.clone());
    s.save("h", h);
    s.call("legacy tx", "eth_getTransactionByHash", json!(["$h"]));
    send(s, "already known", raw);

    // --- eth_sendTransaction from a dev account
    let h = s.call("sendTransaction dev0", "eth_sendTransaction", json!([{"from": dev0, "to": dev2, "value": "0xde0b6b3a7640000"}]));
    s.save("h", h);
    s.call("sendTransaction dev0 tx", "eth_getTransactionByHash", json!(["$h"]));
    s.call("sendTransaction dev0 receipt", "eth_getTransactionReceipt", json!(["$h"]));
    let h = s.call(
        "sendTransaction store",
        "eth_sendTransaction",
        json!([{"from": dev0, "to": storer_c, "data": format!("0x{}", alloy_primitives::hex::encode(word(99)))}]),
    );
    s.save("h", h);
    s.call("sendTransaction store receipt", "eth_getTransactionReceipt", json!(["$h"]));
    s.call(
        "sendTransaction legacy",
        "eth_sendTransaction",
        json!([{"from": dev0, "to": dev2, "gasPrice": "0x4a817c800", "gas": "0x5208"}]),
    );
    s.call("sendTransaction revert", "eth_sendTransaction", json!([{"from": dev0, "to": reverter}]));
    s.call(
        "sendTransaction unknown sender",
        "eth_sendTransaction",
        json!([{"from": "0x1000000000000000000000000000000000000002", "to": dev2}]),
    );

    // --- impersonation
    let whale = "0x000000000000000000000000000000000000bEEF";
    s.call("setBalance whale", "anvil_setBalance", json!([whale, "0x56bc75e2d63100000"]));
    s.call("impersonate", "anvil_impersonateAccount", json!([whale]));
    let h = s.call(
        "impersonated send",
        "eth_sendTransaction",
        json!([{"from": whale, "to": storer_c, "data": format!("0x{}", alloy_primitives::hex::encode(word(77)))}]),
    );
    s.save("h", h);
    s.call("impersonated tx", "eth_getTransactionByHash", json!(["$h"]));
    s.call("impersonated receipt", "eth_getTransactionReceipt", json!(["$h"]));
    s.call("impersonated balance", "eth_getBalance", json!([whale, "latest"]));
    s.call("stop impersonating", "anvil_stopImpersonatingAccount", json!([whale]));
    s.call("send after stop", "eth_sendTransaction", json!([{"from": whale, "to": dev2}]));

    // --- blocks and receipts
    let latest = Session::one(s.call("blockNumber now", "eth_blockNumber", json!([])));
    s.set("latest", latest.clone());
    s.call("block hashes", "eth_getBlockByNumber", json!(["latest", false]));
    s.call(
        "estimate out of gas at cap",
        "eth_estimateGas",
        json!([{"from": dev0, "to": storer_c, "data": format!("0x{}", alloy_primitives::hex::encode(word(5))), "gas": "0x5300"}]),
    );
    let invalid = json!({"0x1000000000000000000000000000000000000003": {"code": "0xfe"}});
    s.call(
        "call invalid opcode",
        "eth_call",
        json!([{"from": dev0, "to": "0x1000000000000000000000000000000000000003"}, "latest", invalid]),
    );
    s.call("traceCall", "debug_traceCall", json!([{"from": dev0, "to": proxy_c, "data": "0x12"}, "latest", {"tracer": "callTracer"}]));
    s.call("traceCall revert", "debug_traceCall", json!([{"from": dev0, "to": custom_c}, "latest", {"tracer": "callTracer"}]));
    s.call("blockNumber tag call", "eth_call", json!([{"to": storer_c}, {"blockNumber": "0x1"}]));
    s.call("block full", "eth_getBlockByNumber", json!(["latest", true]));
    s.call(
        "block full with log tx",
        "eth_getBlockByNumber",
        json!([format!("0x{:x}", after_deploys.as_str().map(|x| u64::from_str_radix(&x[2..], 16).unwrap_or(0)).unwrap_or(0) + 4), true]),
    );
    s.call("block earliest", "eth_getBlockByNumber", json!(["earliest", false]));
    s.call("block pending", "eth_getBlockByNumber", json!(["pending", false]));
    s.call("block missing", "eth_getBlockByNumber", json!(["0x999", false]));
    s.call("block receipts", "eth_getBlockReceipts", json!(["latest"]));
    s.call("block receipts number", "eth_getBlockReceipts", json!([after_deploys]));
    s.call("block receipts missing", "eth_getBlockReceipts", json!(["0x999"]));
    s.call("block tx count", "eth_getBlockTransactionCountByNumber", json!(["latest"]));
    s.call("tx by block and index", "eth_getTransactionByBlockNumberAndIndex", json!(["latest", "0x0"]));
    s.call("tx missing", "eth_getTransactionByHash", json!([B256::repeat_byte(0x11)]));
    s.call("receipt missing", "eth_getTransactionReceipt", json!([B256::repeat_byte(0x11)]));
    s.call("feeHistory", "eth_feeHistory", json!(["0x5", "latest", [0, 25, 50, 75, 100]]));
    s.call("feeHistory no percentiles", "eth_feeHistory", json!([3, "latest"]));
    s.call("feeHistory bad percentiles", "eth_feeHistory", json!(["0x2", "latest", [50, 10]]));
    s.call("gasPrice later", "eth_gasPrice", json!([]));
    s.call("access list proxy", "eth_createAccessList", json!([{"from": dev0, "to": proxy_c, "data": "0x12"}, "latest"]));
    s.call(
        "access list store",
        "eth_createAccessList",
        json!([{"from": dev0, "to": storer_c, "data": format!("0x{}", alloy_primitives::hex::encode(word(3)))}]),
    );
    s.call("access list revert", "eth_createAccessList", json!([{"from": dev0, "to": reverter}]));

    // --- snapshots
    let r = s.call("snapshot", "evm_snapshot", json!([]));
    s.save("snap", r);
    s.call(
        "snapshot store",
        "eth_sendTransaction",
        json!([{"from": dev0, "to": storer_c, "data": format!("0x{}", alloy_primitives::hex::encode(word(1234)))}]),
    );
    s.call("snapshot slot", "eth_getStorageAt", json!([storer_c, "0x0", "latest"]));
    s.call("revert", "evm_revert", json!(["$snap"]));
    s.call("reverted slot", "eth_getStorageAt", json!([storer_c, "0x0", "latest"]));
    s.call("reverted block", "eth_blockNumber", json!([]));
    s.call("revert again", "evm_revert", json!(["$snap"]));

    // --- cheats
    let cheat = "0x2000000000000000000000000000000000000002";
    s.call("setBalance", "anvil_setBalance", json!([cheat, "0x1234"]));
    s.call("setCode", "anvil_setCode", json!([cheat, format!("0x{}", alloy_primitives::hex::encode(storer()))]));
    s.call(
        "setStorageAt",
        "anvil_setStorageAt",
        json!([cheat, "0x0", "0x00000000000000000000000000000000000000000000000000000000000000aa"]),
    );
    s.call("setNonce", "anvil_setNonce", json!([cheat, "0x5"]));
    s.call("cheat balance", "eth_getBalance", json!([cheat, "latest"]));
    s.call("cheat code", "eth_getCode", json!([cheat, "latest"]));
    s.call("cheat storage", "eth_getStorageAt", json!([cheat, "0x0", "latest"]));
    s.call("cheat nonce", "eth_getTransactionCount", json!([cheat, "latest"]));
    s.call("cheat call", "eth_call", json!([{"to": cheat}, "latest"]));

    // --- mining and the clock
    s.call("evm_mine", "evm_mine", json!([]));
    s.call("anvil_mine", "anvil_mine", json!(["0x3"]));
    s.call("anvil_mine interval", "anvil_mine", json!(["0x2", "0x10"]));
    s.call("blockNumber mined", "eth_blockNumber", json!([]));
    let first = s.call_mode("increaseTime", Mode::WithinSeconds, "evm_increaseTime", json!([60]));
    let second = s.call_mode("increaseTime again", Mode::WithinSeconds, "evm_increaseTime", json!(["0x3c"]));
    // the answer is the whole offset: exactly 60 more on both
    let step = |i: usize| Some(Value::from(second[i].as_i64()? - first[i].as_i64()?));
    compare("increaseTime step", Mode::Fields, "", step(0).as_ref(), step(1).as_ref(), &mut s.diffs);
    s.call("setNextBlockTimestamp", "evm_setNextBlockTimestamp", json!([4_000_000_000u64]));
    s.call("mine at timestamp", "evm_mine", json!([]));
    s.call_mode("block at timestamp", Mode::WithTimestamps, "eth_getBlockByNumber", json!(["latest", false]));
    s.call("setNextBlockTimestamp past", "evm_setNextBlockTimestamp", json!([1000]));
    s.call("evm_mine timestamp", "evm_mine", json!([4_000_000_100u64]));
    s.call_mode("block at mined timestamp", Mode::WithTimestamps, "eth_getBlockByNumber", json!(["latest", false]));
    s.call("feeHistory end", "eth_feeHistory", json!(["0x3", "latest", [50]]));

    // --- the JSON-RPC layer
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1001, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 1002, "method": "eth_getBalance", "params": [dev2, "latest"]},
        {"jsonrpc": "2.0", "id": 1003, "method": "eth_nope", "params": []}
    ]);
    s.raw("batch", Mode::Fields, [0, 1].map(|_| batch.to_string().into_bytes()));
    s.raw("malformed JSON", Mode::Fields, [0, 1].map(|_| b"{\"jsonrpc\":\"2.0\",\"id\":1,".to_vec()));
    s.call("unknown method", "eth_doesNotExist", json!([]));
    s.call("bad params", "eth_getBalance", json!(["0xzz", "latest"]));
    s.call("missing params", "eth_getBalance", json!([]));
    s.call("bad block tag", "eth_getBalance", json!([dev0, "newest"]));
    let big = format!("{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[\"{}\"]}}", "a".repeat(120 * 1024 * 1024));
    s.raw("oversize body", Mode::Fields, [0, 1].map(|_| big.clone().into_bytes()));

    // --- where everyone ended
    for a in [dev0, dev1, dev2, storer_c, proxy_c] {
        s.call(&format!("final balance {a}"), "eth_getBalance", json!([a, "latest"]));
        s.call(&format!("final nonce {a}"), "eth_getTransactionCount", json!([a, "latest"]));
    }
    s.call("final proxy slot 1", "eth_getStorageAt", json!([proxy_c, "0x1", "latest"]));

    // --- signing with the dev keys (RFC 6979: the same key and message give the same bytes)
    s.call("eth_sign", "eth_sign", json!([dev0, "0xdeadbeef"]));
    s.call("personal_sign", "personal_sign", json!(["0x68656c6c6f", dev1]));
    let typed = json!({
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "chainId", "type": "uint256"}],
            "Mail": [{"name": "to", "type": "address"}, {"name": "contents", "type": "string"}]
        },
        "primaryType": "Mail",
        "domain": {"name": "SolidML", "chainId": 31337},
        "message": {"to": dev1, "contents": "hello"}
    });
    s.call("signTypedData_v4", "eth_signTypedData_v4", json!([dev0, typed]));
    s.call("sign unknown account", "eth_sign", json!([storer_c, "0xdeadbeef"]));
    s.call("syncing", "eth_syncing", json!([]));
    // hardhat's aliases and automine switching
    s.call("hardhat_setBalance", "hardhat_setBalance", json!([dev2, "0x1234"]));
    s.call("balance after hardhat_setBalance", "eth_getBalance", json!([dev2, "latest"]));
    s.call("automine off", "evm_setAutomine", json!([false]));
    s.call("automine state", "anvil_getAutomine", json!([]));
    s.call("automine on", "evm_setAutomine", json!([true]));

    // last: anvil mines a legacy transaction signed for another chain (we refuse it), which
    // would shift every later block and base fee
    send(s, "wrong chain id legacy", legacy(k1, Some(1), n1, dev2, 1, 21_000));
}

// ---------------------------------------------------------------------------------------------
// state dumps, both ways

/// Differences accepted between a node's reads and the reads of the other node after it loaded
/// the first one's dump, as (direction, path prefix, reason).
const DUMP_ALLOWED: &[(&str, &str, &str)] = &[];

/// Send `raw` and wait until it is mined.
fn send_mined(node: &Proc, raw: &Bytes) -> Value {
    let hash = node.rpc("eth_sendRawTransaction", json!([raw]));
    wait_receipt(node, &hash);
    hash
}

fn wait_receipt(node: &Proc, hash: &Value) -> Value {
    let start = Instant::now();
    loop {
        let r = node.rpc("eth_getTransactionReceipt", json!([hash]));
        if !r.is_null() {
            return r;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{}: {hash} not mined", node.name);
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Some activity: deployments, a store, logs, a transfer, a dev-account and an impersonated
/// `eth_sendTransaction`. Returns the addresses and transaction hashes to read back.
fn activity(node: &Proc) -> (Vec<Address>, Vec<Value>) {
    let k1 = signer(DEV_KEYS[1]);
    let (dev0, dev1, dev2) = (signer(DEV_KEYS[0]).address(), k1.address(), signer(DEV_KEYS[2]).address());
    let mut hashes = vec![];
    hashes.push(send_mined(node, &tx1559(&k1, CHAIN_ID, 0, None, 0, deploy_code(&storer()), 200_000)));
    hashes.push(send_mined(node, &tx1559(&k1, CHAIN_ID, 1, None, 0, deploy_code(&logger()), 200_000)));
    let (storer_c, logger_c) = (dev1.create(0), dev1.create(1));
    hashes.push(send_mined(node, &tx1559(&k1, CHAIN_ID, 2, Some(storer_c), 0, word(42).to_vec().into(), 100_000)));
    hashes.push(send_mined(node, &tx1559(&k1, CHAIN_ID, 3, Some(logger_c), 0, Bytes::from(vec![0xab; 5]), 100_000)));
    hashes.push(send_mined(node, &legacy(&k1, Some(CHAIN_ID), 4, dev2, 12345, 21_000)));
    let h = node.rpc(
        "eth_sendTransaction",
        json!([{"from": dev0, "to": storer_c, "data": format!("0x{}", alloy_primitives::hex::encode(word(7)))}]),
    );
    wait_receipt(node, &h);
    hashes.push(h);
    let whale = Address::repeat_byte(0xbe);
    node.rpc("anvil_setBalance", json!([whale, "0xde0b6b3a7640000"]));
    node.rpc("anvil_impersonateAccount", json!([whale]));
    let h = node.rpc("eth_sendTransaction", json!([{"from": whale, "to": dev2, "value": "0x10"}]));
    wait_receipt(node, &h);
    hashes.push(h);
    node.rpc("evm_mine", json!([]));
    (vec![dev0, dev1, dev2, storer_c, logger_c, whale], hashes)
}

/// What a node says about the accounts, every block (in full) and the transactions.
fn reads(node: &Proc, addresses: &[Address], hashes: &[Value]) -> Value {
    let mut out = serde_json::Map::new();
    for a in addresses {
        out.insert(
            format!("account {a}"),
            json!({
                "balance": node.rpc("eth_getBalance", json!([a, "latest"])),
                "nonce": node.rpc("eth_getTransactionCount", json!([a, "latest"])),
                "code": node.rpc("eth_getCode", json!([a, "latest"])),
                "slot0": node.rpc("eth_getStorageAt", json!([a, "0x0", "latest"])),
            }),
        );
    }
    let best = node.rpc("eth_blockNumber", json!([]));
    out.insert("blockNumber".into(), best.clone());
    let best = u64::from_str_radix(best.as_str().unwrap_or("0x0").trim_start_matches("0x"), 16).unwrap_or(0);
    for n in 0..=best {
        out.insert(format!("block {n}"), node.rpc("eth_getBlockByNumber", json!([format!("0x{n:x}"), true])));
    }
    for h in hashes {
        out.insert(format!("tx {h}"), node.rpc("eth_getTransactionByHash", json!([h])));
        out.insert(format!("receipt {h}"), node.rpc("eth_getTransactionReceipt", json!([h])));
    }
    Value::Object(out)
}

/// Compare everything, hashes and timestamps included (a loaded chain is the same chain).
fn compare_strict(direction: &str, path: &str, a: Option<&Value>, b: Option<&Value>, out: &mut Vec<Diff>) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                compare_strict(direction, &format!("{path}.{k}"), x.get(k), y.get(k), out);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                compare_strict(direction, &format!("{path}[{i}]"), Some(u), Some(v), out);
            }
        }
        (Some(u), Some(v)) if u == v => {}
        _ => out.push(Diff { step: direction.into(), path: path.into(), anvil: show(a), ours: show(b) }),
    }
}

/// Run [`activity`] on `from`, stop it (it writes its dump), start `to` on the dump, compare.
fn cross_load(direction: &str, from: (&'static str, &Path), to: (&'static str, &Path), file: &Path, diffs: &mut Vec<Diff>) {
    let prague = |name: &str| if name == "anvil" { vec!["--hardfork", "prague"] } else { vec![] };
    let mut args = prague(from.0);
    args.extend(["--dump-state", file.to_str().expect("utf-8 path")]);
    let node = Proc::start(from.0, from.1, &args);
    let (addresses, hashes) = activity(&node);
    let before = reads(&node, &addresses, &hashes);
    node.terminate();
    assert!(file.exists(), "{direction}: {} wrote no state file at {}", from.0, file.display());
    let mut args = prague(to.0);
    args.extend(["--load-state", file.to_str().expect("utf-8 path")]);
    let loaded = Proc::start(to.0, to.1, &args);
    let after = reads(&loaded, &addresses, &hashes);
    // the two sides are (writer, loader); `Diff` names them anvil/ours
    compare_strict(direction, "", Some(&before), Some(&after), diffs);
    // the loaded chain goes on: dev1's next transaction (nonce 5) is mined on top
    let k1 = signer(DEV_KEYS[1]);
    let h = loaded.rpc("eth_sendRawTransaction", json!([tx1559(&k1, CHAIN_ID, 5, Some(k1.address()), 1, Bytes::new(), 21_000)]));
    let receipt = wait_receipt(&loaded, &h);
    let expected = before
        .get("blockNumber")
        .and_then(Value::as_str)
        .and_then(|b| u64::from_str_radix(b.trim_start_matches("0x"), 16).ok())
        .map(|b| b + 1);
    let got = receipt.get("blockNumber").and_then(Value::as_str).and_then(|b| u64::from_str_radix(b.trim_start_matches("0x"), 16).ok());
    compare_strict(
        &format!("{direction} (next block)"),
        ".blockNumber",
        expected.map(Value::from).as_ref(),
        got.map(Value::from).as_ref(),
        diffs,
    );
    compare_strict(&format!("{direction} (next block)"), ".status", Some(&json!("0x1")), receipt.get("status"), diffs);
}

#[test]
fn state_dumps_load_both_ways() {
    let Some(anvil) = require_anvil() else { return };
    let dir = std::env::temp_dir().join(format!("solidml-devnode-dumps-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ours = devnode_bin();
    let mut diffs = vec![];
    cross_load("devnode dump -> anvil", ("solidml-devnode", &ours), ("anvil", &anvil), &dir.join("devnode.json"), &mut diffs);
    cross_load("anvil dump -> devnode", ("anvil", &anvil), ("solidml-devnode", &ours), &dir.join("anvil.json"), &mut diffs);
    let _ = std::fs::remove_dir_all(&dir);
    let allowed = |d: &Diff| DUMP_ALLOWED.iter().find(|(dir, path, _)| d.step.starts_with(dir) && d.path.starts_with(path)).map(|a| a.2);
    for d in diffs.iter().filter(|d| allowed(d).is_some()) {
        println!("  allowed  {}  {}: written {}  loaded {}  ({})", d.step, d.path, d.anvil, d.ours, allowed(d).unwrap_or(""));
    }
    let failing: Vec<&Diff> = diffs.iter().filter(|d| allowed(d).is_none()).collect();
    if !failing.is_empty() {
        let mut msg = format!("{} difference(s) between a node and the other node loading its dump:\n", failing.len());
        for d in failing {
            msg.push_str(&format!("  {}  {}\n      written by: {}\n      loaded:     {}\n", d.step, d.path, d.anvil, d.ours));
        }
        panic!("{msg}");
    }
}
