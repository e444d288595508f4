-- A pipeline that calls the hello plugin's steps (`kiln run --pipeline hello.lua ...`).
local greeting = kiln.step("greet", function() return hello.greet { name = "kiln" } end)
kiln.log(greeting.greeting)
kiln.step("write", function() return hello.write { file = "hello.txt" } end)
return { greeting = greeting.greeting }
