ardour {
	["type"]    = "dsp",
	name        = "Bulkhead Test Notes",
	category    = "Utility",
	license     = "MIT OR Apache-2.0",
	author      = "bulkhead tests",
	description = [[The fixed notes of tests/hosts/ardour_session.lua, the same as tests/hosts/common.py's:
note 60 velocity 100 from 0.1 s to 0.5 s and note 67 velocity 80 from 0.3 s to 0.8 s of the
transport, sent when the transport rolls over their positions (the transport position only
decides, so every export of a range plays the same notes).]]
}

function dsp_ioconfig ()
	return { { midi_in = 1, midi_out = 1, audio_in = 0, audio_out = 0 } }
end

-- { seconds, status, note, velocity }
local notes = {
	{ 0.1, 0x90, 60, 100 },
	{ 0.3, 0x90, 67, 80 },
	{ 0.5, 0x80, 60, 0 },
	{ 0.8, 0x80, 67, 0 },
}
local events = {}

function dsp_init (rate)
	for i, n in ipairs (notes) do
		events[i] = { math.floor (n[1] * rate + 0.5), { n[2], n[3], n[4] } }
	end
end

function dsp_run (_, _, n_samples)
	if not Session:transport_rolling () then
		return
	end
	local pos = Session:transport_sample ()
	local m = 1
	for _, e in ipairs (events) do
		if e[1] >= pos and e[1] < pos + n_samples then
			midiout[m] = { time = e[1] - pos + 1, data = e[2] }
			m = m + 1
		end
	end
end
