//! `solidml devnode bench`: the same workload against real anvil and against the devnode, in
//! one run, and the ratios.
//!
//! * `eth_call` per second: `clients` threads, each on its own keep-alive connection, calling a
//!   contract that reads a storage slot;
//! * `eth_sendRawTransaction` per second with automine: every client sends its pre-signed
//!   transfers (EIP-1559, one sender per client) one after the other; the clock stops when the
//!   last receipt is there (anvil answers before it mines);
//! * a model inference through `eth_call` (the devnode only: anvil has no SolidML precompile):
//!   median latency of a call to `0x…501D`, on each backend asked for.
//!
//! Both nodes run on this machine, on loopback, with the same accounts; the clients are the
//! same code for both. Figures are medians of `rounds` rounds.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use serde_json::{Value, json};

use crate::{DevnodeError, NodeConfig, accounts::derive, config::BackendChoice};

/// What to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// anvil's binary.
    pub anvil: std::path::PathBuf,
    /// Concurrent clients.
    pub clients: usize,
    /// `eth_call`s per client per round.
    pub calls: usize,
    /// Transactions per client per round.
    pub transactions: usize,
    /// Rounds (the median is reported).
    pub rounds: usize,
    /// A model artifact for the inference latency, and the backends to run it on.
    pub model: Option<(Vec<u8>, Vec<BackendChoice>)>,
}

/// A keep-alive JSON-RPC connection over HTTP/1.1 (hand-written, so that both nodes meet the
/// same minimal client and the figures measure the nodes).
struct Conn {
    stream: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> Result<Conn, String> {
        let s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Conn { stream: BufReader::new(s) })
    }

    fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let request =
            format!("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        self.stream.get_mut().write_all(request.as_bytes()).map_err(|e| e.to_string())?;
        let (mut length, mut chunked) = (None, false);
        loop {
            let mut line = String::new();
            if self.stream.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err("connection closed".into());
            }
            let l = line.trim_end().to_ascii_lowercase();
            if l.is_empty() {
                break;
            }
            if let Some(v) = l.strip_prefix("content-length:") {
                length = v.trim().parse::<usize>().ok();
            }
            chunked |= l.starts_with("transfer-encoding:") && l.contains("chunked");
        }
        let mut payload = vec![];
        if chunked {
            loop {
                let mut size = String::new();
                self.stream.read_line(&mut size).map_err(|e| e.to_string())?;
                let n = usize::from_str_radix(size.trim(), 16).map_err(|e| e.to_string())?;
                let mut chunk = vec![0; n + 2];
                self.stream.read_exact(&mut chunk).map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                payload.extend_from_slice(&chunk[..n]);
            }
        } else {
            payload.resize(length.ok_or("no content length")?, 0);
            self.stream.read_exact(&mut payload).map_err(|e| e.to_string())?;
        }
        let v: Value = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
        match v.get("error") {
            Some(e) => Err(format!("{method}: {e}")),
            None => Ok(v["result"].clone()),
        }
    }
}

/// anvil as a child process.
struct Anvil {
    child: Child,
    port: u16,
}

impl Anvil {
    fn start(bin: &Path, accounts: usize) -> Result<Anvil, String> {
        let mut child = Command::new(bin)
            .args(["-p", "0", "--hardfork", "prague", "-a", &accounts.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let mut lines = BufReader::new(child.stdout.take().ok_or("no stdout")?).lines();
        let port = loop {
            let line = lines.next().ok_or("anvil exited before listening")?.map_err(|e| e.to_string())?;
            if let Some(addr) = line.strip_prefix("Listening on ") {
                break addr.rsplit(':').next().and_then(|p| p.trim().parse().ok()).ok_or("no port")?;
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Ok(Anvil { child, port })
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runtime code that returns storage slot 0.
const READER: [u8; 7] = [0x5f, 0x54, 0x5f, 0x52, 0x60, 0x20, 0x5f];

fn deploy(conn: &mut Conn, from: Address) -> Result<Address, String> {
    // init: store 42 in slot 0, return READER ++ RETURN
    let mut runtime = READER.to_vec();
    runtime.push(0xf3);
    let n = runtime.len() as u8;
    let mut init = vec![0x60, 42, 0x5f, 0x55, 0x60, n, 0x60, 0x0f, 0x5f, 0x39, 0x60, n, 0x5f, 0xf3, 0x00];
    init.extend_from_slice(&runtime);
    let hash = conn.call("eth_sendTransaction", json!([{"from": from, "data": Bytes::from(init), "gas": "0x100000"}]))?;
    let receipt = wait_receipt(conn, &hash)?;
    serde_json::from_value(receipt["contractAddress"].clone()).map_err(|e| e.to_string())
}

fn wait_receipt(conn: &mut Conn, hash: &Value) -> Result<Value, String> {
    wait_receipt_for(conn, hash, Duration::from_secs(60))
}

fn wait_receipt_for(conn: &mut Conn, hash: &Value, patience: Duration) -> Result<Value, String> {
    let deadline = Instant::now() + patience;
    loop {
        let r = conn.call("eth_getTransactionReceipt", json!([hash]))?;
        if !r.is_null() {
            return Ok(r);
        }
        if Instant::now() > deadline {
            let pending = conn.call("eth_getTransactionByHash", json!([hash]))?;
            return Err(format!("no receipt for {hash} (the transaction: {pending})"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `eth_call`s per second over `clients` connections.
fn calls_per_second(port: u16, target: Address, clients: usize, calls: usize) -> Result<f64, String> {
    let start = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(move || -> Result<(), String> {
                    let mut c = Conn::open(port)?;
                    for _ in 0..calls {
                        let r = c.call("eth_call", json!([{"to": target, "data": "0x"}, "latest"]))?;
                        if r.as_str() != Some("0x000000000000000000000000000000000000000000000000000000000000002a") {
                            return Err(format!("eth_call answered {r}"));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles.into_iter().try_for_each(|h| h.join().map_err(|_| "client panicked".to_string())?)
    })?;
    Ok((clients * calls) as f64 / start.elapsed().as_secs_f64())
}

/// Signed transfers per second, until the last receipt, and how often the node left a ready
/// transaction unmined (anvil's miner sometimes does under concurrent sends: after a second
/// without the receipt the bench mines a block with `evm_mine`, and that second is not counted).
fn transactions_per_second(port: u16, clients: usize, per_client: usize, first_nonce: &mut u64) -> Result<(f64, usize, usize), String> {
    let keys: Vec<_> = derive(crate::config::DEFAULT_MNEMONIC, crate::config::DEFAULT_DERIVATION_PATH, clients as u32 + 1)
        .map_err(|e| e.to_string())?
        .into_iter()
        .skip(1)
        .map(|a| a.signer)
        .collect();
    let signed: Vec<Vec<String>> = keys
        .iter()
        .map(|key| {
            (0..per_client as u64)
                .map(|i| {
                    let tx = TxEip1559 {
                        chain_id: 31337,
                        nonce: *first_nonce + i,
                        gas_limit: 21_000,
                        max_fee_per_gas: 100_000_000_000,
                        max_priority_fee_per_gas: 1_000_000_000,
                        to: TxKind::Call(Address::with_last_byte(0xEE)),
                        value: U256::from(1),
                        access_list: Default::default(),
                        input: Bytes::new(),
                    };
                    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("sign");
                    format!("0x{}", hex::encode(TxEnvelope::Eip1559(tx.into_signed(sig)).encoded_2718()))
                })
                .collect()
        })
        .collect();
    *first_nonce += per_client as u64;
    let start = Instant::now();
    let last: Vec<Value> = std::thread::scope(|s| {
        let handles: Vec<_> = signed
            .iter()
            .map(|txs| {
                s.spawn(move || -> Result<Value, String> {
                    let mut c = Conn::open(port)?;
                    let mut last = Value::Null;
                    for raw in txs {
                        last = c.call("eth_sendRawTransaction", json!([raw]))?;
                    }
                    Ok(last)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().map_err(|_| "client panicked".to_string())?).collect::<Result<Vec<_>, String>>()
    })?;
    let mut c = Conn::open(port)?;
    let (mut stalls, mut lost, patience) = (0, 0, Duration::from_secs(1));
    for h in &last {
        let mut nudges = 0;
        while wait_receipt_for(&mut c, h, patience).is_err() {
            stalls += 1;
            nudges += 1;
            if nudges > 5 {
                // never mined: counted as lost, and reported
                lost += 1;
                break;
            }
            c.call("evm_mine", json!([]))?;
        }
    }
    let elapsed = start.elapsed().saturating_sub(patience * stalls as u32);
    Ok(((clients * per_client) as f64 / elapsed.as_secs_f64(), stalls, lost))
}

/// Run the benchmark and print the table.
pub fn bench(options: &BenchOptions) -> Result<(), DevnodeError> {
    let fail = |e: String| DevnodeError::Server(format!("bench: {e}"));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| fail(e.to_string()))?;
    let accounts = options.clients as u32 + 1;
    let ours = runtime.block_on(crate::spawn(NodeConfig::default().with_port(0).with_quiet(true).with_accounts(accounts)))?;
    let anvil = Anvil::start(&options.anvil, accounts as usize).map_err(fail)?;
    let deployer = derive(crate::config::DEFAULT_MNEMONIC, crate::config::DEFAULT_DERIVATION_PATH, 1)?[0].address;
    println!(
        "devnode bench: {} clients, {} eth_call and {} transactions per client per round, median of {} rounds",
        options.clients, options.calls, options.transactions, options.rounds
    );
    println!("{:<38} {:>14} {:>14} {:>8}", "workload", "anvil", "devnode", "ratio");
    let mut rows = vec![];
    for (name, port) in [("anvil", anvil.port), ("devnode", ours.addr.port())] {
        let mut c = Conn::open(port).map_err(fail)?;
        let target = deploy(&mut c, deployer).map_err(|e| fail(format!("{name}: {e}")))?;
        let mut nonce = 0;
        let (mut calls, mut txs, mut stalls, mut lost) = (vec![], vec![], 0, 0);
        for _ in 0..options.rounds {
            calls.push(calls_per_second(port, target, options.clients, options.calls).map_err(|e| fail(format!("{name}: {e}")))?);
            let (rate, s, l) = transactions_per_second(port, options.clients, options.transactions, &mut nonce)
                .map_err(|e| fail(format!("{name}: {e}")))?;
            txs.push(rate);
            stalls += s;
            lost += l;
        }
        if lost > 0 {
            println!(
                "({name} never mined the last transaction of {lost} client(s) in a round, even after evm_mine: the rate counts them as sent)"
            );
        }
        if stalls > 0 {
            println!("({name} left a ready transaction unmined {stalls} time(s): nudged with evm_mine, the waiting second not counted)");
        }
        rows.push((median(calls), median(txs)));
    }
    let ratio = |a: f64, b: f64| b / a;
    println!("{:<38} {:>14.0} {:>14.0} {:>7.2}×", "eth_call per second", rows[0].0, rows[1].0, ratio(rows[0].0, rows[1].0));
    println!("{:<38} {:>14.0} {:>14.0} {:>7.2}×", "eth_sendRawTransaction per second", rows[0].1, rows[1].1, ratio(rows[0].1, rows[1].1));
    drop(anvil);
    runtime.block_on(ours.stop())?;
    if let Some((artifact, backends)) = &options.model {
        for &backend in backends {
            let node = runtime.block_on(crate::spawn(NodeConfig::default().with_port(0).with_quiet(true).with_backend(backend)))?;
            let mut c = Conn::open(node.addr.port()).map_err(fail)?;
            let id = c.call("solidml_uploadModel", json!([Bytes::from(artifact.clone())])).map_err(fail)?;
            let info = c.call("solidml_getModel", json!([id])).map_err(fail)?;
            let input_bytes = info["inputBytes"].as_u64().unwrap_or(0) as usize;
            let mut data = hex::decode(id.as_str().unwrap_or_default().trim_start_matches("0x")).map_err(|e| fail(e.to_string()))?;
            data.resize(32 + input_bytes, 0);
            let call = json!([{"to": Address::from(solidml_precompile::SOLIDML_PRECOMPILE), "data": Bytes::from(data)}, "latest"]);
            c.call("eth_call", call.clone()).map_err(fail)?; // prepares the model once
            let mut times = vec![];
            for _ in 0..options.calls.clamp(5, 200) {
                let t = Instant::now();
                c.call("eth_call", call.clone()).map_err(fail)?;
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            let executor = node.node.chain.read().precompiles().solidml().executor().name();
            println!(
                "{:<38} {:>14} {:>12.3}ms {:>8}",
                format!("model {} through eth_call ({executor})", info["name"].as_str().unwrap_or("?")),
                "-",
                median(times),
                ""
            );
            runtime.block_on(node.stop())?;
        }
    }
    Ok(())
}
