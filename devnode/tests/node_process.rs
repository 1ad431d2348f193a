//! The devnode as a process, the way users run it: a bounded load test on loopback, and state
//! files that survive a restart and a SIGKILL.
//!
//! * **Load**: 8 concurrent clients send 5,000 signed transactions in all (625 each, EIP-1559,
//!   from 8 dev accounts); none is lost: every receipt is there and succeeded, every nonce
//!   reached 625, and the blocks hold exactly those transactions.
//! * **State**: a node with `--dump-state FILE --state-interval 1` gets contracts, storage,
//!   transfers, impersonated transactions and an uploaded model; it is killed with SIGKILL right
//!   after a periodic write; the file parses whole (writes are atomic: temporary file + rename),
//!   and a node started with `--load-state FILE` answers the same accounts, code, storage,
//!   blocks, receipts and models, field by field. Then SIGTERM writes the file on exit.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use serde_json::{Value, json};
use solidml_devnode::accounts::derive;

/// A devnode process and its port.
struct Node {
    child: Child,
    port: u16,
}

impl Node {
    fn start(args: &[&str]) -> Node {
        let mut child = Command::new(env!("CARGO_BIN_EXE_solidml-devnode"))
            .args(["-p", "0", "--backend", "cpu"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start solidml-devnode");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = loop {
            let line = lines.next().expect("the node exits before listening").unwrap();
            if let Some(addr) = line.strip_prefix("Listening on ") {
                break addr.rsplit(':').next().unwrap().trim().parse().unwrap();
            }
        };
        // keep draining the node's log so it never blocks on a full pipe
        std::thread::spawn(move || for _ in lines {});
        Node { child, port }
    }

    fn rpc(&self, method: &str, params: Value) -> Value {
        rpc(self.port, method, params)
    }

    /// Send, then wait until mined (automine answers once the transaction is in the pool, as
    /// anvil does): the receipt.
    fn mined(&self, method: &str, params: Value) -> Value {
        let hash = self.rpc(method, params);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let r = self.rpc("eth_getTransactionReceipt", json!([hash]));
            if !r.is_null() {
                return r;
            }
            assert!(Instant::now() < deadline, "{hash} was never mined");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill").args([sig, &self.child.id().to_string()]).status().unwrap().success();
        assert!(ok, "kill {sig}");
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One JSON-RPC request over HTTP/1.1 (hand-written: the test wants nothing between it and the
/// socket); the `result`, or a panic with the error.
fn rpc(port: u16, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_nodelay(true).unwrap();
    // one write: a request split over several small writes meets Nagle and delayed ACKs (40 ms)
    let request = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    let (_, payload) = response.split_once("\r\n\r\n").unwrap();
    let v: Value = serde_json::from_str(payload.trim()).unwrap_or_else(|e| panic!("{method}: {e}: {payload}"));
    if let Some(e) = v.get("error") {
        panic!("{method} {params}: {e}")
    }
    v["result"].clone()
}

fn signed(key: &alloy_signer_local::PrivateKeySigner, nonce: u64, to: TxKind, input: Vec<u8>, value: u64, gas: u64) -> String {
    let tx = TxEip1559 {
        chain_id: 31337,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: 20_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to,
        value: U256::from(value),
        access_list: Default::default(),
        input: Bytes::from(input),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    format!("0x{}", hex::encode(TxEnvelope::Eip1559(tx.into_signed(sig)).encoded_2718()))
}

fn keys(n: u32) -> Vec<alloy_signer_local::PrivateKeySigner> {
    derive(solidml_devnode::config::DEFAULT_MNEMONIC, solidml_devnode::config::DEFAULT_DERIVATION_PATH, n)
        .unwrap()
        .into_iter()
        .map(|a| a.signer)
        .collect()
}

#[test]
fn five_thousand_transactions_from_eight_clients_none_lost() {
    const CLIENTS: usize = 8;
    const PER_CLIENT: u64 = 625;
    let node = Node::start(&["-a", "8"]);
    let port = node.port;
    let start = Instant::now();
    let hashes: Vec<Vec<String>> = std::thread::scope(|s| {
        let handles: Vec<_> = keys(CLIENTS as u32)
            .into_iter()
            .enumerate()
            .map(|(i, key)| {
                s.spawn(move || {
                    let sink = TxKind::Call(Address::with_last_byte(0xB0 + i as u8));
                    (0..PER_CLIENT)
                        .map(|nonce| {
                            rpc(port, "eth_sendRawTransaction", json!([signed(&key, nonce, sink, vec![], 1, 21_000)]))
                                .as_str()
                                .unwrap()
                                .to_string()
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let sent = start.elapsed();
    let all: Vec<&String> = hashes.iter().flatten().collect();
    assert_eq!(all.len(), CLIENTS * PER_CLIENT as usize);
    let deadline = Instant::now() + Duration::from_secs(60);
    for h in &all {
        while node.rpc("eth_getTransactionReceipt", json!([h])).is_null() {
            assert!(Instant::now() < deadline, "{h} was never mined");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let mined = start.elapsed();
    let mut in_blocks = 0;
    let best = u64::from_str_radix(node.rpc("eth_blockNumber", json!([])).as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    for n in 1..=best {
        in_blocks += node.rpc("eth_getBlockByNumber", json!([format!("0x{n:x}"), false]))["transactions"].as_array().unwrap().len();
    }
    assert_eq!(in_blocks, all.len(), "the blocks hold every transaction, once");
    for h in &all {
        let r = node.rpc("eth_getTransactionReceipt", json!([h]));
        assert_eq!(r["status"], "0x1", "receipt of {h}: {r}");
    }
    for (i, key) in keys(CLIENTS as u32).iter().enumerate() {
        let nonce = node.rpc("eth_getTransactionCount", json!([key.address(), "latest"]));
        assert_eq!(nonce, json!(format!("0x{PER_CLIENT:x}")), "client {i}");
        let sink = node.rpc("eth_getBalance", json!([Address::with_last_byte(0xB0 + i as u8), "latest"]));
        assert_eq!(sink, json!(format!("0x{PER_CLIENT:x}")));
    }
    println!(
        "{} transactions from {CLIENTS} clients: sent in {:.2} s, all mined in {:.2} s ({:.0} tx/s), {best} blocks, every receipt there",
        all.len(),
        sent.as_secs_f64(),
        mined.as_secs_f64(),
        all.len() as f64 / mined.as_secs_f64()
    );
}

/// Init code that deploys `runtime`.
fn deploy_code(runtime: &[u8]) -> Vec<u8> {
    let n = runtime.len() as u8;
    let mut c = vec![0x60, n, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, n, 0x60, 0x00, 0xf3];
    c.extend_from_slice(runtime);
    c
}

/// Runtime code: SSTORE(calldata[0..32], calldata[32..64]).
const STORER: [u8; 8] = [0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x55, 0x00];

fn tiny_artifact() -> Vec<u8> {
    use solidml_spec::{Dense, Epilogue, Model, Quant, arith::Multiplier};
    let q = Quant { scale: 0.05, zero_point: 1 };
    let dense = Dense {
        in_features: 4,
        out_features: 2,
        input_zero_point: 1,
        weights: vec![1, -2, 3, -4, 5, 6, -7, 8],
        bias: vec![10, -10],
        epilogue: Epilogue { multipliers: vec![Multiplier::from_real(0.25)], output_zero_point: 1, clamp_min: -128, clamp_max: 127 },
    };
    solidml_spec::artifact::encode(&Model::single_dense("tiny", 1, dense, q, q)).unwrap()
}

/// Everything a state file must keep, read through the RPC: accounts touched, blocks in full,
/// receipts, models.
fn snapshot(node: &Node, accounts: &[Address], slots: &[(Address, u64)]) -> Value {
    let best = u64::from_str_radix(node.rpc("eth_blockNumber", json!([])).as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    let blocks: Vec<Value> = (0..=best).map(|n| node.rpc("eth_getBlockByNumber", json!([format!("0x{n:x}"), true]))).collect();
    let receipts: Vec<Value> = (0..=best).map(|n| node.rpc("eth_getBlockReceipts", json!([format!("0x{n:x}")]))).collect();
    let accounts: Vec<Value> = accounts
        .iter()
        .map(|a| {
            json!({
                "balance": node.rpc("eth_getBalance", json!([a, "latest"])),
                "nonce": node.rpc("eth_getTransactionCount", json!([a, "latest"])),
                "code": node.rpc("eth_getCode", json!([a, "latest"])),
            })
        })
        .collect();
    let storage: Vec<Value> = slots.iter().map(|(a, s)| node.rpc("eth_getStorageAt", json!([a, format!("0x{s:x}"), "latest"]))).collect();
    json!({ "blocks": blocks, "receipts": receipts, "accounts": accounts, "storage": storage, "models": node.rpc("solidml_listModels", json!([])) })
}

fn wait_for(path: &Path, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(bytes) = std::fs::read(path)
            && let Ok(v) = serde_json::from_slice::<Value>(&bytes)
            && pred(&v)
        {
            return v;
        }
        assert!(Instant::now() < deadline, "no state file with the expected content at {}", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn state_survives_sigkill_after_a_periodic_write_and_a_restart() {
    let dir = std::env::temp_dir().join(format!("solidml-devnode-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file: PathBuf = dir.join("state.json");
    let file_arg = file.to_str().unwrap();
    let node = Node::start(&["--dump-state", file_arg, "--state-interval", "1"]);
    let key = &keys(1)[0];
    // a contract with storage, a transfer, an impersonated transaction, a model
    let deployed = node.mined("eth_sendRawTransaction", json!([signed(key, 0, TxKind::Create, deploy_code(&STORER), 0, 100_000)]));
    let storer: Address = serde_json::from_value(deployed["contractAddress"].clone()).unwrap();
    let mut call = [0u8; 64];
    call[31] = 7;
    call[63] = 42;
    node.mined("eth_sendRawTransaction", json!([signed(key, 1, TxKind::Call(storer), call.to_vec(), 0, 100_000)]));
    let friend = Address::with_last_byte(0x77);
    node.mined("eth_sendRawTransaction", json!([signed(key, 2, TxKind::Call(friend), vec![], 5_000, 21_000)]));
    let whale = Address::with_last_byte(0x99);
    node.rpc("anvil_setBalance", json!([whale, "0xde0b6b3a7640000"]));
    node.rpc("anvil_impersonateAccount", json!([whale]));
    node.mined("eth_sendTransaction", json!([{"from": whale, "to": friend, "value": "0x3"}]));
    let model = node.rpc("solidml_uploadModel", json!([format!("0x{}", hex::encode(tiny_artifact()))]));
    let accounts = [key.address(), storer, friend, whale, Address::ZERO];
    let slots = [(storer, 7u64)];
    let before = snapshot(&node, &accounts, &slots);
    assert_eq!(before["storage"][0], json!(format!("0x{:064x}", 42)));
    assert_eq!(before["models"][0]["modelId"], model);

    // a periodic write that holds all of it, then SIGKILL
    wait_for(&file, |v| v["best_block_number"] == json!(4) && v["solidml"]["models"].as_array().is_some_and(|m| m.len() == 1));
    node.signal("-KILL");
    drop(node);
    let text = std::fs::read_to_string(&file).unwrap();
    serde_json::from_str::<Value>(&text).expect("the file is whole after SIGKILL");
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).filter(|n| n != "state.json").collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // restart from the file: the same chain, field by field
    let again = Node::start(&["--load-state", file_arg]);
    let after = snapshot(&again, &accounts, &slots);
    assert_eq!(before, after, "state, blocks, receipts and models after --load-state");
    // it goes on from there
    again.mined("eth_sendRawTransaction", json!([signed(key, 3, TxKind::Call(friend), vec![], 1, 21_000)]));
    assert_eq!(again.rpc("eth_blockNumber", json!([])), json!("0x5"));
    drop(again);

    // SIGTERM writes the file on exit (--state: load if present, dump on exit)
    let state_arg = dir.join("term.json");
    let node = Node::start(&["--state", state_arg.to_str().unwrap()]);
    node.rpc("evm_mine", json!([]));
    node.signal("-TERM");
    let v = wait_for(&state_arg, |v| v["best_block_number"] == json!(1));
    assert_eq!(v["blocks"].as_array().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn interval_mining_and_config_out() {
    let dir = std::env::temp_dir().join(format!("solidml-devnode-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    let node = Node::start(&["-b", "1", "--config-out", config.to_str().unwrap(), "-a", "3"]);
    let c: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(c["available_accounts"][0], "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    assert_eq!(c["private_keys"].as_array().unwrap().len(), 3);
    assert_eq!(c["wallet"]["mnemonic"], solidml_devnode::config::DEFAULT_MNEMONIC);
    // no automine: a transaction waits for the next interval block
    let key = &keys(1)[0];
    let hash = node.rpc("eth_sendRawTransaction", json!([signed(key, 0, TxKind::Call(Address::with_last_byte(1)), vec![], 1, 21_000)]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while node.rpc("eth_getTransactionReceipt", json!([hash])).is_null() {
        assert!(Instant::now() < deadline, "no interval block mined the transaction");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(2_200));
    let best = u64::from_str_radix(node.rpc("eth_blockNumber", json!([])).as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    assert!(best >= 2, "blocks keep coming every second, empty or not: {best}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Read the next subscription notification (skipping other messages).
fn next_notification(ws: &mut tungstenite::WebSocket<std::net::TcpStream>) -> Value {
    loop {
        let msg = ws.read().expect("websocket read");
        if let tungstenite::Message::Text(t) = msg {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["method"] == "eth_subscription" {
                return v["params"]["result"].clone();
            }
        }
    }
}

#[test]
fn websocket_subscriptions_to_new_heads_and_logs() {
    let node = Node::start(&[]);
    let key = &keys(1)[0];
    // a contract that emits LOG1(topic 0x…07) with no data on every call
    let emitter = [0x60, 0x07, 0x5f, 0x5f, 0xa1, 0x00];
    let address =
        node.mined("eth_sendRawTransaction", json!([signed(key, 0, TxKind::Create, deploy_code(&emitter), 0, 100_000)]))["contractAddress"]
            .clone();

    let stream = TcpStream::connect(("127.0.0.1", node.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let (mut ws, _) = tungstenite::client(format!("ws://127.0.0.1:{}", node.port), stream).expect("websocket handshake");
    let subscribe = |ws: &mut tungstenite::WebSocket<TcpStream>, id: u64, params: Value| {
        ws.send(tungstenite::Message::text(json!({"jsonrpc": "2.0", "id": id, "method": "eth_subscribe", "params": params}).to_string()))
            .unwrap();
        loop {
            if let tungstenite::Message::Text(t) = ws.read().unwrap() {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["id"] == id {
                    assert!(v["result"].is_string(), "subscription id: {v}");
                    return;
                }
            }
        }
    };
    subscribe(&mut ws, 1, json!(["newHeads"]));
    node.rpc("evm_mine", json!([]));
    let head = next_notification(&mut ws);
    assert_eq!(head["number"], "0x2", "{head}");
    assert_eq!(head["hash"], node.rpc("eth_getBlockByNumber", json!(["0x2", false]))["hash"]);

    let (mut logs_ws, _) =
        tungstenite::client(format!("ws://127.0.0.1:{}", node.port), TcpStream::connect(("127.0.0.1", node.port)).unwrap()).unwrap();
    logs_ws.get_ref().set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let topic = format!("0x{:064x}", 7);
    subscribe(&mut logs_ws, 2, json!(["logs", {"address": address, "topics": [topic]}]));
    node.rpc(
        "eth_sendRawTransaction",
        json!([signed(key, 1, TxKind::Call(serde_json::from_value(address.clone()).unwrap()), vec![], 0, 50_000)]),
    );
    let log = next_notification(&mut logs_ws);
    assert_eq!(log["address"].as_str().unwrap().to_lowercase(), address.as_str().unwrap().to_lowercase());
    assert_eq!(log["topics"][0], topic);
    assert_eq!(log["blockNumber"], "0x3");
    // the heads subscription saw that block too
    assert_eq!(next_notification(&mut ws)["number"], "0x3");
}

#[test]
fn hostile_models_and_state_files_get_clear_errors() {
    let node = Node::start(&[]);
    let raw = |method: &str, params: Value| {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let mut s = TcpStream::connect(("127.0.0.1", node.port)).unwrap();
        let request = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        let v: Value = serde_json::from_str(response.split_once("\r\n\r\n").unwrap().1.trim()).unwrap();
        v["error"].clone()
    };
    // empty, garbage, truncated and 8 MiB of zeros: refused with the reason, the node serves on
    let artifact = tiny_artifact();
    for (what, hex_artifact) in [
        ("empty", "0x".to_string()),
        ("garbage", "0xdeadbeef".to_string()),
        ("truncated", format!("0x{}", hex::encode(&artifact[..artifact.len() / 2]))),
        ("huge", format!("0x{}", "00".repeat(8 << 20))),
    ] {
        let e = raw("solidml_uploadModel", json!([hex_artifact]));
        assert_eq!(e["code"], -32602, "{what}: {e}");
        assert!(e["message"].as_str().unwrap().starts_with("artifact refused: "), "{what}: {e}");
    }
    assert_eq!(raw("solidml_uploadModel", json!(["not hex"]))["code"], -32602);
    assert_eq!(node.rpc("solidml_listModels", json!([])), json!([]));
    assert!(node.rpc("solidml_getModel", json!([format!("0x{}", "00".repeat(32))])).is_null());
    let e = raw("anvil_loadState", json!(["0x1f8b0000"]));
    assert_eq!(e["code"], -32602, "a torn gzip state: {e}");
    assert_eq!(node.rpc("eth_chainId", json!([])), "0x7a69");
    drop(node);

    // a state file that is not one, and a model directory with a file whose hash is not its name
    let dir = std::env::temp_dir().join(format!("solidml-devnode-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("models")).unwrap();
    std::fs::write(dir.join("bad.json"), b"{\"accounts\": {\"0x01\": ").unwrap();
    std::fs::write(dir.join("models").join(format!("{}.smodel", "11".repeat(32))), &artifact).unwrap();
    for (args, want) in [
        (vec!["--load-state", dir.join("bad.json").to_str().unwrap()], "bad.json"),
        (vec!["--models", dir.join("models").to_str().unwrap()], "does not match"),
        (vec!["--models", dir.join("missing").to_str().unwrap()], "missing"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_solidml-devnode")).args(["-p", "0", "--backend", "cpu"]).args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.starts_with("Error: ") && err.contains(want), "{args:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
