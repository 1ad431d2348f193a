// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// Written by script/fixtures.py from ../models/digits_eval.npy: do not edit, rerun it.

/// @title DigitFixtures: real 8x8 digit images as the model's 64 int8 input codes.
/// @notice Rows of scikit-learn's digits dataset (examples/models/digits_eval.npy), quantized
///         with the input's scale 0.062745101749897 and zero point -128 (src/models/digits.json):
///         q = clamp(zp + round_half_even(pixel / scale), -128, 127); pixel 0 -> -128, 16 -> 127.
library DigitFixtures {
    /// digits_eval.npy[0], label 0: a clear 0.
    ///     |    ::oo++      |
    ///     |    oo%%++%%::  |
    ///     |  ..%%..  **==  |
    ///     |  ::oo    ====  |
    ///     |  ::==    ++==  |
    ///     |  ::**    oo==  |
    ///     |  ..%%::++oo    |
    ///     |    --oo++      |
    bytes internal constant ZERO = hex"8080d04f0f90808080804f6f1f6fd08080b06fa0802fff8080c03f8080ffff8080d0ff80800fff8080c02f80903ff08080a05fd01f3f80808080e04f1f808080";

    /// digits_eval.npy[1], label 1: a clear 1.
    ///     |      oooo::    |
    ///     |      **##++    |
    ///     |    ..%%##--    |
    ///     |  ==%%####..    |
    ///     |      ####..    |
    ///     |      ####--    |
    ///     |      ####--    |
    ///     |      **##++    |
    bytes internal constant ONE = hex"8080803f4fd080808080802f7f0f80808080b06f7fe0808080f06f7f7fa080808080907f7fb080808080907f7fe080808080907f7fe080808080802f7f1f8080";

    /// digits_eval.npy[2], label 2: a clear 2.
    ///     |      ::%%oo    |
    ///     |    ..##%%%%    |
    ///     |    ==oo==##    |
    ///     |      --%%**    |
    ///     |    ==oo%%      |
    ///     |  ++####::      |
    ///     |  ..oo####**::  |
    ///     |      ..**##++  |
    bytes internal constant TWO = hex"808080c06f3f80808080b07f6f5f80808080ff4fff7f8080808090e06f2f80808090ff4f6f908080800f7f7fd080808080b04f7f7f2fd080808080b02f7f0f80";

    /// digits_eval.npy[3], label 3: a clear 3.
    ///     |    ==%%oo      |
    ///     |  ==oo--%%::    |
    ///     |  ..  oooo      |
    ///     |    ..%%**      |
    ///     |        oooo    |
    ///     |          ++==  |
    ///     |    ==::::%%++  |
    ///     |    ==oooo++    |
    bytes internal constant THREE = hex"8080f06f4f90808080ff4fe06fc0808080a0904f4f8080808080a06f2f908080808080903f3f908080808080901fff808080ffc0d05f0f808080f04f4f0f8080";

    /// digits_eval.npy[4], label 4: a clear 4.
    ///     |        **      |
    ///     |      ====      |
    ///     |      oo--....  |
    ///     |    ==%%  ++==  |
    ///     |  ::##++  ##--  |
    ///     |  ::%%##oo##    |
    ///     |      ..%%++    |
    ///     |      ..##::    |
    bytes internal constant FOUR = hex"808080902f808080808080f0ff8080808080904fe0a0a0808080f06f800fff8080d07f1f807fe08080c06f7f4f7f9080808080b06f1f8080808080a07fc08080";

    /// digits_eval.npy[15], label 5: a clear 5.
    ///     |  ::oooo####..  |
    ///     |  **##%%==::    |
    ///     |  ==%%**        |
    ///     |  ==####%%      |
    ///     |    ----##      |
    ///     |      ::##..    |
    ///     |    ::%%oo      |
    ///     |  ::%%##..      |
    bytes internal constant FIVE = hex"80d03f4f7f7fa080802f7f6fffc0808080ff5f2f9080808080ff7f7f5f8080808090e0e07f808080808080d07fb080808090d06f4f80808080c06f7fa0808080";

    /// digits_eval.npy[6], label 6: a clear 6.
    ///     |      oooo      |
    ///     |    ::##==      |
    ///     |    oo##..      |
    ///     |    %%oo        |
    ///     |    %%oo==..    |
    ///     |    oo##oo##..  |
    ///     |    ==##**%%==  |
    ///     |      ++%%**..  |
    bytes internal constant SIX = hex"8080803f4f8080808080d07fff80808080804f7fb080808080805f4f8080808080806f3ff0a0808080804f7f4f7fb0808080f07f2f6fff808080900f6f2fb080";

    /// digits_eval.npy[7], label 7: a clear 7.
    ///     |    ====oo##%%  |
    ///     |    ====::**oo  |
    ///     |        ==oo    |
    ///     |  ::====%%%%--  |
    ///     |  ..**%%%%::    |
    ///     |      ##::      |
    ///     |    ++%%        |
    ///     |    oo::        |
    bytes internal constant SEVEN = hex"8080f0ff4f7f6f908080f0f0c02f3f8080808080ff4f908080c0ffff6f6fe08080a02f6f6fc080808080807fd080808080800f6f9080808080804fd080808080";

    /// digits_eval.npy[8], label 8: a clear 8.
    ///     |    ++%%==      |
    ///     |    oo%%%%oo    |
    ///     |    ++++  %%::  |
    ///     |    ..##oo%%..  |
    ///     |    ::####..    |
    ///     |  ..##==++oo..  |
    ///     |    %%  ..##==  |
    ///     |    **##%%**    |
    bytes internal constant EIGHT = hex"80800f5fff90808080803f5f5f3f808080800f1f806fc0808080b07f3f5fa0808080c07f7fa0808080b07fff1f4fa08080906f90b07fff8080802f7f6f2f9080";

    /// digits_eval.npy[9], label 9: a clear 9.
    ///     |    **oo        |
    ///     |  ..######oo    |
    ///     |  ..##oo++%%    |
    ///     |    ##  oo%%    |
    ///     |    oo##++%%..  |
    ///     |      ..  ++**  |
    ///     |        ++%%::  |
    ///     |    ++oooo..    |
    bytes internal constant NINE = hex"80802f3f8080808080a07f7f7f4f808080b07f3f1f5f808080907f903f6f808080804f7f0f6fa080808080b0800f2f80808080800f6fc08080800f3f4fb08080";

    /// digits_eval.npy[5], label 5: a 5 the model sees as a 5 at only 229/256 (89.5%).
    ///     |    oo++        |
    ///     |    %%####%%    |
    ///     |    oo##%%++    |
    ///     |    **####==    |
    ///     |      ::==##==  |
    ///     |        ::##++  |
    ///     |    ::::oo##::  |
    ///     |    ++####++    |
    bytes internal constant UNSURE_FIVE = hex"80803f1f8080808080805f7f7f5f808080804f7f6f1f908080802f7f7ff08080808080c0f07ff08080808080c07f0f808080d0c03f7fc08080800f7f7f1f8080";

    /// digits_eval.npy[420], label 6: a 6 the model sees as a 6 at only 153/256 (59.8%).
    ///     |      ++%%**    |
    ///     |    ++%%++oo::  |
    ///     |  ..##==        |
    ///     |  ::######++    |
    ///     |  ==##**++##::  |
    ///     |  ..##::  oo==  |
    ///     |    ++%%oo##::  |
    ///     |      ++oo==    |
    bytes internal constant UNSURE_SIX = hex"8080900f5f2f908080801f6f0f4fd08080b07ff08080808080d07f7f7f1f808080f07f2f1f7fd08080a07fd0803fff8080801f6f4f7fd0808080800f3ff08080";

    /// digits_eval.npy[37], label 9: a 9 the model takes for a 5 (255/256).
    ///     |    oo++        |
    ///     |  ::##%%==      |
    ///     |  ::##==%%      |
    ///     |  ..%%####--    |
    ///     |      ::++oo    |
    ///     |          oo--  |
    ///     |    ::==::++%%  |
    ///     |    oooo%%##oo  |
    bytes internal constant NINE_SEEN_AS_FIVE = hex"80804f1f9080808080d07f5ff080808080c07fff5f80808080a05f7f7fe08080808090c00f4f908080808080804fe0808080d0ffd00f5f8080804f4f6f7f4f80";

    /// The dataset's label of each constant above (ground truth, not the model's answer).
    function labelOf(bytes memory image) internal pure returns (uint8) {
        if (keccak256(image) == keccak256(ZERO)) return 0;
        if (keccak256(image) == keccak256(ONE)) return 1;
        if (keccak256(image) == keccak256(TWO)) return 2;
        if (keccak256(image) == keccak256(THREE)) return 3;
        if (keccak256(image) == keccak256(FOUR)) return 4;
        if (keccak256(image) == keccak256(FIVE)) return 5;
        if (keccak256(image) == keccak256(SIX)) return 6;
        if (keccak256(image) == keccak256(SEVEN)) return 7;
        if (keccak256(image) == keccak256(EIGHT)) return 8;
        if (keccak256(image) == keccak256(NINE)) return 9;
        if (keccak256(image) == keccak256(UNSURE_FIVE)) return 5;
        if (keccak256(image) == keccak256(UNSURE_SIX)) return 6;
        if (keccak256(image) == keccak256(NINE_SEEN_AS_FIVE)) return 9;
        revert("DigitFixtures: not a fixture");
    }

    /// The clear image of `digit`.
    function clear(uint8 digit) internal pure returns (bytes memory) {
        if (digit == 0) return ZERO;
        if (digit == 1) return ONE;
        if (digit == 2) return TWO;
        if (digit == 3) return THREE;
        if (digit == 4) return FOUR;
        if (digit == 5) return FIVE;
        if (digit == 6) return SIX;
        if (digit == 7) return SEVEN;
        if (digit == 8) return EIGHT;
        if (digit == 9) return NINE;
        revert("DigitFixtures: not a digit");
    }
}
