-- Drives Ardour 7 headless (Debian's `ardour`: `ardour7-lua`, i.e. luasession) on one VST3
-- plugin. One run of this script is one phase, in its own process:
--
--   ardour7-lua ardour_session.lua PHASE SESSION_DIR OUT_DIR PLUGIN KIND PARAM VALUE
--
--   PHASE        "create": create the session at SESSION_DIR (which must not exist), add a bus
--                named "Bulkhead" holding the test signal's source and then PLUGIN, set
--                PLUGIN's parameter PARAM (Ardour's index among the plugin's parameters) to
--                VALUE (Ardour's value: for VST3 the plain value), export OUT_DIR/a.wav, save
--                the session and write OUT_DIR/create.json;
--                "reload": load the session saved by "create", read the parameter back, export
--                OUT_DIR/b.wav and write OUT_DIR/reload.json. The session is not saved again.
--   PLUGIN       the VST3 plugin's name as Ardour lists it (the class name).
--   KIND         "effect": an audio bus, the source is "Bulkhead Test Tone" (a 440 Hz sine,
--                amplitude 0.5); "instrument": a MIDI bus, the source is "Bulkhead Test Notes"
--                (two notes between 0.1 s and 0.8 s). Both are Lua DSP scripts in
--                tests/hosts/ardour/scripts whose output depends on the transport position only.
--
-- Exports cover the first second at 48 kHz, as 32-bit float WAV without dither or normalisation
-- (the export preset in tests/hosts/ardour/export). The JSON file is written last: a phase
-- that died before the end leaves none. luasession aborts or segfaults in about one run in ten,
-- even with no plugin, often at exit after everything was written: judge a phase by its files.
--
-- Environment (see tests/tests/vst3_ardour.rs, which sets it up):
--   XDG_CONFIG_HOME  a folder whose ardour7/ holds copies of tests/hosts/ardour/{scripts,export}
--                    (Ardour looks for Lua DSP scripts and export presets there);
--   XDG_CACHE_HOME   a folder whose ardour7/vst holds the VST3 scan cache: luasession loads only
--                    plugins found there, so first run, with the same XDG_CACHE_HOME,
--                    LD_LIBRARY_PATH=/usr/lib/ardour7 /usr/lib/ardour7/ardour-vst3-scanner -f B.vst3
--   VST3_PATH        the folder holding the bundle.

local RATE = 48000
local ROUTE = "Bulkhead"
local PRESET = "b0f0d1c6-0000-4000-8000-000000000001" -- bulkhead-f32.preset

local phase, session_dir, out_dir, plugin_name, kind, param, value =
	arg[1], arg[2], arg[3], arg[4], arg[5], tonumber (arg[6]), tonumber (arg[7])

local function fail (what)
	error ("ardour_session.lua " .. tostring (phase) .. ": " .. what, 0)
end

if not (phase == "create" or phase == "reload") or not out_dir or not plugin_name
	or not (kind == "effect" or kind == "instrument") or not param or not value then
	fail ("usage: ardour7-lua ardour_session.lua create|reload SESSION_DIR OUT_DIR PLUGIN effect|instrument PARAM VALUE")
end

local function json_string (s)
	return '"' .. tostring (s):gsub ('[%c"\\]', function (c) return string.format ("\\u%04x", c:byte ()) end) .. '"'
end

-- Writes OUT_DIR/NAME.json from a flat table of strings, numbers and booleans.
local function write_json (name, t)
	local keys = {}
	for k in pairs (t) do keys[#keys + 1] = k end
	table.sort (keys)
	local parts = {}
	for _, k in ipairs (keys) do
		local v = t[k]
		if type (v) == "string" then
			v = json_string (v)
		elseif type (v) == "number" then
			v = string.format ("%.17g", v)
		else
			v = tostring (v)
		end
		parts[#parts + 1] = "  " .. json_string (k) .. ": " .. v
	end
	local path = out_dir .. "/" .. name .. ".json"
	local f = assert (io.open (path .. ".tmp", "w"))
	f:write ("{\n" .. table.concat (parts, ",\n") .. "\n}\n")
	f:close ()
	assert (os.rename (path .. ".tmp", path))
end

-- Exports the first second of the session's master bus to OUT_DIR/NAME.wav.
local function export (name)
	local e = Session:simple_export ()
	if not e:set_preset (PRESET) then
		fail ("export preset " .. PRESET .. " not found (is XDG_CONFIG_HOME/ardour7/export set up?)")
	end
	e:set_folder (out_dir)
	e:set_name (name)
	e:set_range (0, RATE)
	if not e:run_export () then
		fail ("export of " .. name .. ".wav failed")
	end
end

local function get_param (proc)
	local v, refs = ARDOUR.LuaAPI.get_processor_param (proc, param, true)
	if not refs[3] then
		fail ("plugin has no parameter " .. param)
	end
	return v
end

-- The processors of the route, by name, in order.
local function processor_names (route)
	local names = {}
	local i = 0
	while true do
		local p = route:nth_plugin (i)
		if p:isnil () then break end
		names[#names + 1] = p:display_name ()
		i = i + 1
	end
	return table.concat (names, ", ")
end

AudioEngine:set_backend ("None (Dummy)", "", "")

if phase == "create" then
	if not create_session (session_dir, "bulkhead", RATE) then
		fail ("create_session " .. session_dir .. " failed")
	end
	local routes
	local source
	if kind == "effect" then
		routes = Session:new_audio_route (2, 2, nil, 1, ROUTE, ARDOUR.PresentationInfo.Flag.AudioBus, ARDOUR.PresentationInfo.max_order)
		source = "Bulkhead Test Tone"
	else
		routes = Session:new_midi_route (nil, 1, ROUTE, false, ARDOUR.PluginInfo (), nil, ARDOUR.PresentationInfo.Flag.MidiBus, ARDOUR.PresentationInfo.max_order)
		source = "Bulkhead Test Notes"
	end
	if routes:size () ~= 1 then
		fail ("could not add the bus")
	end
	local route = routes:front ()
	local src = ARDOUR.LuaAPI.new_plugin (Session, source, ARDOUR.PluginType.Lua, "")
	if src:isnil () then
		fail ("Lua DSP script '" .. source .. "' not found (is XDG_CONFIG_HOME/ardour7/scripts set up?)")
	end
	if route:add_processor_by_index (src, 0, nil, true) ~= 0 then
		fail ("could not add " .. source)
	end
	local proc = ARDOUR.LuaAPI.new_plugin (Session, plugin_name, ARDOUR.PluginType.VST3, "")
	if proc:isnil () then
		fail ("VST3 plugin '" .. plugin_name .. "' not found (scanned into XDG_CACHE_HOME? VST3_PATH?)")
	end
	if route:add_processor_by_index (proc, 1, nil, true) ~= 0 then
		fail ("could not add " .. plugin_name)
	end
	local default = get_param (proc)
	if not ARDOUR.LuaAPI.set_processor_param (proc, param, value) then
		fail ("could not set parameter " .. param .. " to " .. value)
	end
	local set = get_param (proc)
	export ("a")
	-- Saved after audio ran: a plugin may take its parameters only in process().
	if Session:save_state ("", false, false, false, false, false) ~= 0 then
		fail ("save_state failed")
	end
	write_json ("create", {
		plugin = plugin_name,
		processors = processor_names (route),
		default = default,
		set = set,
	})
else
	if not load_session (session_dir, "bulkhead") then
		fail ("load_session " .. session_dir .. " failed")
	end
	local route = Session:route_by_name (ROUTE)
	if route:isnil () then
		fail ("no route " .. ROUTE .. " in the reloaded session")
	end
	local proc = route:nth_plugin (1)
	if proc:isnil () or proc:to_insert ():isnil () then
		fail ("no plugin after the source in the reloaded session: " .. processor_names (route))
	end
	local loaded = get_param (proc)
	export ("b")
	write_json ("reload", {
		plugin = proc:display_name (),
		processors = processor_names (route),
		loaded = loaded,
	})
end

Session:close ()
