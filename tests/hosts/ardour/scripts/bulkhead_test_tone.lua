ardour {
	["type"]    = "dsp",
	name        = "Bulkhead Test Tone",
	category    = "Utility",
	license     = "MIT OR Apache-2.0",
	author      = "bulkhead tests",
	description = [[The fixed input of tests/hosts/ardour_session.lua: a 440 Hz sine of amplitude 0.5 on
every output while the transport rolls, silence otherwise. Each sample is a function of the
transport position only, so every export of a range renders the same input.]]
}

function dsp_ioconfig ()
	return { { audio_in = -1, audio_out = -1 } }
end

local rate = 48000

function dsp_init (r)
	rate = r
end

function dsp_run (_, outs, n_samples)
	local a = {}
	if Session:transport_rolling () then
		local pos = Session:transport_sample ()
		for s = 1, n_samples do
			a[s] = 0.5 * math.sin (2 * math.pi * 440 * ((pos + s - 1) % rate) / rate)
		end
	else
		for s = 1, n_samples do a[s] = 0 end
	end
	for c = 1, #outs do
		outs[c]:set_table (a, n_samples)
	end
end
