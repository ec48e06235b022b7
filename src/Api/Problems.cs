namespace MediaActors.Api;

/// <summary>problem+json answers with a clear title and detail.</summary>
public static class Problems
{
    public static IResult BadRequest(string detail, IDictionary<string, string[]>? errors = null) =>
        errors is null
            ? Results.Problem(title: "The request is not valid.", detail: detail, statusCode: StatusCodes.Status400BadRequest)
            : Results.ValidationProblem(errors, detail: detail, title: "The request is not valid.");

    public static IResult NotFound(string what) =>
        Results.Problem(title: "Not found.", detail: $"No {what} with this id exists for your account.", statusCode: StatusCodes.Status404NotFound);

    public static IResult Conflict(string detail) =>
        Results.Problem(title: "Conflict.", detail: detail, statusCode: StatusCodes.Status409Conflict);

    public static IResult Gone(string detail) =>
        Results.Problem(title: "Gone.", detail: detail, statusCode: StatusCodes.Status410Gone);

    public static IResult TooLarge(string detail) =>
        Results.Problem(title: "Too large.", detail: detail, statusCode: StatusCodes.Status413PayloadTooLarge);

    public static IResult Unprocessable(string detail) =>
        Results.Problem(title: "The file cannot be used.", detail: detail, statusCode: StatusCodes.Status422UnprocessableEntity);

    public static IResult Unavailable(string detail) =>
        Results.Problem(title: "Try again later.", detail: detail, statusCode: StatusCodes.Status503ServiceUnavailable);
}
