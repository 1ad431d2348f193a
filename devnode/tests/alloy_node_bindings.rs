//! alloy's node bindings, written for anvil, drive the devnode unchanged: `Anvil::at(<our
//! binary>)` spawns it with `-p 0`, reads the keys and the port from its banner, and a provider
//! built on it (with the first dev key as its wallet) deploys a contract and reads it back.

use alloy_network::{EthereumWallet, TransactionBuilder};
use alloy_node_bindings::Anvil;
use alloy_primitives::{Bytes, U256};
use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_types_eth::TransactionRequest;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anvil_at_our_binary_deploys_and_reads_back() {
    let node = Anvil::at(env!("CARGO_BIN_EXE_solidml-devnode")).arg("--backend").arg("cpu").spawn();
    assert_eq!(node.chain_id(), 31337);
    assert_eq!(node.addresses().len(), 10);
    assert_eq!(node.addresses()[0].to_checksum(None), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    let signer = alloy_signer_local::PrivateKeySigner::from_signing_key(node.keys()[0].clone().into());
    assert_eq!(signer.address(), node.addresses()[0]);
    let wallet = EthereumWallet::from(signer);
    let provider = ProviderBuilder::new().wallet(wallet).connect_http(node.endpoint_url());
    assert_eq!(provider.get_chain_id().await.unwrap(), 31337);
    // runtime: return storage slot 0 (set to 42 by the constructor)
    let init = Bytes::from(hex::decode("602a5f556008600f5f3960085ff3005f545f5260205ff3").unwrap());
    let receipt =
        provider.send_transaction(TransactionRequest::default().with_deploy_code(init)).await.unwrap().get_receipt().await.unwrap();
    assert!(receipt.status());
    let address = receipt.contract_address.expect("a contract address");
    assert_eq!(provider.get_code_at(address).await.unwrap(), Bytes::from(hex::decode("5f545f5260205ff3").unwrap()));
    let out = provider.call(TransactionRequest::default().to(address)).await.unwrap();
    assert_eq!(U256::from_be_slice(&out), U256::from(42));
    assert_eq!(provider.get_storage_at(address, U256::ZERO).await.unwrap(), U256::from(42));
    assert_eq!(provider.get_block_number().await.unwrap(), 1);
}
