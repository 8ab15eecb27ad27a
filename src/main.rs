fn main() -> std::process::ExitCode {
    amazon_music_mock::cli_main()
}
