// SPDX-License-Identifier: MIT
pragma solidity ^0.8.27;

import {SolidML} from "solidml/SolidML.sol";
import {SolidMLModels} from "./models/SolidMLModels.sol";

/// @notice What `safeTransferFrom` asks of a contract that receives a token (ERC-721).
interface IERC721Receiver {
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external
        returns (bytes4);
}

/// @title DigitMint: an NFT of a handwritten digit, minted only when a neural network agrees.
/// @notice `mint(digit, image)` runs the digits classifier (scikit-learn's MLPClassifier on the
///         8×8 digits dataset, compiled to exact int8 by SolidML) on the image inside the EVM,
///         through the SolidML precompile at 0x…501D, and mints a token showing `digit` only
///         when the model sees that digit with at least `minConfidence`. Each image mints once.
/// @dev    A small ERC-721 (balanceOf, ownerOf, approvals, transfers, safe transfers, ERC-165),
///         without metadata. The model is `SolidMLModels.DIGITS` (src/models/SolidMLModels.sol,
///         written by `solidml init` from solidml.toml); its outputs, packed by the precompile:
///         `label` int64 (8 bytes big-endian), then `probabilities` int8 ×10, where code q stands
///         for (q + 128) / 256 (scale 1/256, zero point −128: src/models/digits.json).
contract DigitMint {
    // ---------------------------------------------------------------- the model's output

    /// Bytes the model answers: 8 (label) + 10 (probabilities).
    uint256 internal constant OUTPUT_BYTES = 18;
    /// Where `probabilities` starts in the answer.
    uint256 internal constant PROBABILITIES_OFFSET = 8;

    // ---------------------------------------------------------------- state

    /// One token: who owns it, the digit it shows, and how sure the model was (in 256ths).
    struct Token {
        address owner;
        uint8 digit;
        uint8 confidence;
    }

    string public constant name = "DigitMint";
    string public constant symbol = "DIGIT";

    /// The least probability (in 256ths: 230 ≈ 90%) the model must give the claimed digit.
    uint8 public immutable minConfidence;

    /// Tokens minted so far; token ids are 1, 2, 3, …
    uint256 public totalSupply;

    mapping(uint256 tokenId => Token) internal tokens;
    mapping(address owner => uint256) internal balances;
    mapping(uint256 tokenId => address) public getApproved;
    mapping(address owner => mapping(address operator => bool)) public isApprovedForAll;
    /// The token an image minted (keccak256 of its 64 bytes), 0 if none.
    mapping(bytes32 imageHash => uint256 tokenId) public tokenOfImage;

    // ---------------------------------------------------------------- events and errors

    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);
    /// A token was minted: the model saw `digit` with probability `confidence` / 256.
    event DigitMinted(uint256 indexed tokenId, address indexed owner, uint8 digit, uint8 confidence);

    /// `digit` is not 0–9.
    error NotADigit(uint8 claimed);
    /// The model sees another digit in the image.
    error NotThatDigit(uint8 claimed, uint8 seen);
    /// The model sees the digit, but with probability `confidence` / 256 below `required` / 256.
    error NotConfident(uint8 digit, uint8 confidence, uint8 required);
    /// This image already minted `tokenId`.
    error ImageAlreadyMinted(bytes32 imageHash, uint256 tokenId);
    /// The model answered an unexpected number of bytes (not the digits model?).
    error UnexpectedModelOutput(uint256 length);
    /// No such token.
    error NonexistentToken(uint256 tokenId);
    /// The zero address cannot own tokens.
    error ZeroAddress();
    /// `caller` may not move or approve this token.
    error NotAuthorized(address caller, uint256 tokenId);
    /// `from` does not own the token.
    error WrongOwner(address from, uint256 tokenId);
    /// `to` is a contract that does not accept ERC-721 tokens.
    error UnsafeRecipient(address to);

    /// @param minConfidence_ the least probability, in 256ths, the model must give a claim.
    constructor(uint8 minConfidence_) {
        minConfidence = minConfidence_;
    }

    // ---------------------------------------------------------------- minting

    /// Mint a token showing `digit` to the caller, if the model sees `digit` in `image` (64 int8
    /// codes: the 8×8 pixels row by row, each pixel 0..16 quantized with the input's scale ≈ 16/255
    /// and zero point −128 of src/models/digits.json, so 0 → −128 and 16 → 127).
    /// Reverts NotThatDigit / NotConfident when the model does not agree, and with the
    /// precompile's SolidMLError when it refuses the image (code 3: not 64 bytes).
    function mint(uint8 digit, bytes calldata image) external returns (uint256 tokenId) {
        if (digit > 9) revert NotADigit(digit);
        bytes32 imageHash = keccak256(image);
        if (tokenOfImage[imageHash] != 0) revert ImageAlreadyMinted(imageHash, tokenOfImage[imageHash]);

        bytes memory out = SolidML.run(SolidMLModels.DIGITS, image);
        if (out.length != OUTPUT_BYTES) revert UnexpectedModelOutput(out.length);
        // the label: an int64 in 0..9, big-endian in the first 8 bytes
        uint8 seen = uint8(uint64(bytes8(out)));
        if (seen != digit) revert NotThatDigit(digit, seen);
        // the claimed digit's probability code q: (q + 128) / 256, i.e. q with its sign bit flipped
        uint8 confidence = uint8(out[PROBABILITIES_OFFSET + digit]) ^ 0x80;
        if (confidence < minConfidence) revert NotConfident(digit, confidence, minConfidence);

        tokenId = ++totalSupply;
        tokenOfImage[imageHash] = tokenId;
        tokens[tokenId] = Token(msg.sender, digit, confidence);
        unchecked {
            ++balances[msg.sender];
        }
        emit Transfer(address(0), msg.sender, tokenId);
        emit DigitMinted(tokenId, msg.sender, digit, confidence);
    }

    /// The digit token `tokenId` shows.
    function digitOf(uint256 tokenId) external view returns (uint8) {
        return token(tokenId).digit;
    }

    /// The model's probability of that digit when it was minted, in 256ths.
    function confidenceOf(uint256 tokenId) external view returns (uint8) {
        return token(tokenId).confidence;
    }

    // ---------------------------------------------------------------- ERC-721

    function balanceOf(address owner) external view returns (uint256) {
        if (owner == address(0)) revert ZeroAddress();
        return balances[owner];
    }

    function ownerOf(uint256 tokenId) public view returns (address) {
        return token(tokenId).owner;
    }

    function approve(address approved, uint256 tokenId) external {
        address owner = ownerOf(tokenId);
        if (msg.sender != owner && !isApprovedForAll[owner][msg.sender]) revert NotAuthorized(msg.sender, tokenId);
        getApproved[tokenId] = approved;
        emit Approval(owner, approved, tokenId);
    }

    function setApprovalForAll(address operator, bool approved) external {
        isApprovedForAll[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function transferFrom(address from, address to, uint256 tokenId) public {
        Token storage t = token(tokenId);
        if (t.owner != from) revert WrongOwner(from, tokenId);
        if (to == address(0)) revert ZeroAddress();
        if (msg.sender != from && !isApprovedForAll[from][msg.sender] && msg.sender != getApproved[tokenId]) {
            revert NotAuthorized(msg.sender, tokenId);
        }
        unchecked {
            --balances[from];
            ++balances[to];
        }
        t.owner = to;
        delete getApproved[tokenId];
        emit Transfer(from, to, tokenId);
    }

    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        if (to.code.length != 0) {
            try IERC721Receiver(to).onERC721Received(msg.sender, from, tokenId, data) returns (bytes4 ret) {
                if (ret != IERC721Receiver.onERC721Received.selector) revert UnsafeRecipient(to);
            } catch {
                revert UnsafeRecipient(to);
            }
        }
    }

    /// ERC-165: ERC-165 itself and ERC-721.
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7 || interfaceId == 0x80ac58cd;
    }

    function token(uint256 tokenId) internal view returns (Token storage t) {
        t = tokens[tokenId];
        if (t.owner == address(0)) revert NonexistentToken(tokenId);
    }
}
