using System.Globalization;
using SafeMem.Attachments;
using SafeMem.Demo.Lab;

namespace SafeMem.Demo.Scenarios;

/// <summary>
/// Extra state hung on objects the code does not own: a Dictionary side table keeps every control it ever saw
/// alive; an <see cref="Attachment{TOwner, TValue}"/> lets each control go with its state, even though the state
/// refers back to the control.
/// </summary>
internal sealed class AttachmentScenario : Scenario
{
    private const int ControlsPerStep = 10;
    private const int StepsShown = 10;
    private const int ControlBytes = 12 * 1024;
    private const int Probes = 64;

    public override string Key => "attachments";

    public override string Title => "Attachments";

    public override string NaiveLabel => "static Dictionary<Control, ToolTipState> side table";

    public override string SafeMemLabel => "Attachment<Control, ToolTipState>";

    public override string Story =>
        $"Each step the UI shows {ControlsPerStep} new controls ({ControlBytes / 1024} KB each) and removes those shown {StepsShown} steps ago. " +
        "A tooltip helper keeps per-control state, which refers back to its control, in a side table it never cleans: the Dictionary holds " +
        "every removed control; the Attachment's entries die with their controls.";

    public override IReadOnlyList<CounterChart> Charts { get; } =
    [
        new("entries held", "safemem.attachment.entry.count", NaiveKey: "entries"),
        new("entries reclaimed (control collected)", "safemem.attachment.reclamations"),
        new($"of the last {Probes} removed controls, still alive", "removedAlive", NaiveKey: "removedAlive"),
    ];

    public override Variant Create(VariantKind kind) =>
        kind == VariantKind.Naive ? new Ui(new DictionaryTable()) : new Ui(new AttachmentTable());

    private interface ISideTable
    {
        ToolTipState GetOrAdd(Control control);

        int? Count { get; }
    }

    private sealed class Control
    {
        public byte[] Pixels { get; } = new byte[ControlBytes];
    }

    private sealed class ToolTipState(Control owner)
    {
        public Control Owner { get; } = owner;

        public string Text { get; set; } = string.Empty;
    }

    private sealed class DictionaryTable : ISideTable
    {
        private readonly Dictionary<Control, ToolTipState> _states = [];

        public int? Count => _states.Count;

        public ToolTipState GetOrAdd(Control control)
        {
            if (!_states.TryGetValue(control, out ToolTipState? state))
            {
                _states[control] = state = new ToolTipState(control);
            }

            return state;
        }
    }

    private sealed class AttachmentTable : ISideTable
    {
        private readonly Attachment<Control, ToolTipState> _states = new(LabNames.Prefix + "tooltips");

        // Read by the lab through telemetry.
        public int? Count => null;

        public ToolTipState GetOrAdd(Control control) => _states.GetOrAdd(control, static c => new ToolTipState(c))!;
    }

    private sealed class Ui(ISideTable table) : Variant
    {
        private readonly Queue<Control[]> _shown = new();

        // Weak references to the most recently removed controls only: a bounded probe, so the probe itself never grows.
        private readonly WeakReference<Control>?[] _removed = new WeakReference<Control>?[Probes];
        private int _removedCount;

        public override void Step(int step)
        {
            if (_shown.Count == StepsShown)
            {
                foreach (Control control in _shown.Dequeue())
                {
                    _removed[_removedCount++ % Probes] = new WeakReference<Control>(control);
                }
            }

            var controls = new Control[ControlsPerStep];
            for (int i = 0; i < controls.Length; i++)
            {
                controls[i] = new Control();
                table.GetOrAdd(controls[i]).Text = string.Create(CultureInfo.InvariantCulture, $"control {step}.{i}");
            }

            _shown.Enqueue(controls);
        }

        public override void Observe(IDictionary<string, double> figures)
        {
            figures["removedAlive"] = _removed.Count(r => r is not null && r.TryGetTarget(out _));
            if (table.Count is int count)
            {
                figures["entries"] = count;
            }
        }

        public override IEnumerable<string> Conclude(Sample first, Sample last)
        {
            bool naive = table is DictionaryTable;
            double entries = (naive ? last.Value("entries") : last.Value("safemem.attachment.entry.count")) ?? 0;
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{(naive ? "Dictionary" : "Attachment")}: {Format.Count(entries)} entries at the end for {_shown.Sum(c => c.Length)} controls on screen; of the last {Math.Min(Probes, _removedCount)} removed controls {Format.Count(last.Value("removedAlive") ?? 0)} are still alive.");
        }
    }
}
