"""min-char-rnn with Keras: XavierRNN vs the naive U[0, 1] on the bundled text.

    python examples/char_rnn.py           # SimpleRNN(128), 1000 steps per init
    python examples/char_rnn.py --quick   # seconds, used by the smoke test

Trains the same character model (one-hot -> SimpleRNN -> logits, the Wxh,
Whh, Why of Karpathy's min-char-rnn) twice, writes the comparison report with
its loss curves to <out>/char_rnn/ and prints 200 sampled characters from each.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import shutil

import keras  # noqa: E402
from _common import parse_args  # noqa: E402

from keras_rnninit.compare import compare, write_report  # noqa: E402
from keras_rnninit.tasks import CharVocabulary, load_text, sample_text  # noqa: E402


def main():
    args = parse_args(__doc__)
    steps, units, length = (100, 16, 25) if args.quick else (1000, 128, 50)
    out = os.path.join(args.out, "char_rnn")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "models"))
    records = compare(
        ["xavier_rnn", "uniform01"],
        seeds=[0],
        task="chars",
        length=length,
        units=units,
        steps=steps,
        eval_every=50,
        batch_size=32,
        learning_rate=2e-3,
        test_size=256,
        save_dir=os.path.join(out, "models"),
    )
    write_report(records, out, command="python examples/char_rnn.py")
    vocab = CharVocabulary(load_text())
    for record in records:
        model = keras.saving.load_model(record.model_path)
        text = sample_text(model, vocab, "The ", length=200, temperature=0.8, seed=0)
        print(
            f"\n{record.scheme}: test loss {record.final_test:.3f} nats/char "
            f"(unigram baseline {record.baseline:.3f}). Sample:\n{text!r}"
        )
    print(f"\nloss curves: {out}/loss_curves.png; report: {out}/report.md")


if __name__ == "__main__":
    main()
