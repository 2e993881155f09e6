-- luacheck configuration (make lint): Lua 5.4, 110 columns; specs see busted.
std = "lua54"
max_line_length = 120
files["spec/**/*.lua"] = { std = "+busted" }
files["bench/**/*.lua"] = { std = "+lua54" }
exclude_files = { "build/**", "lua_modules/**" }
